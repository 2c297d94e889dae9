// The circumstances of a run that an evidence record states: time, command line, working directory, software
// version, source commit and the SHA-256 of this very executable (the build id).
#pragma once

#include <span>
#include <vector>

#include "evidence/record.hpp"
#include "evidence/signing_key.hpp"
#include "input/tokenizer.hpp"
#include "telltale/keyring.hpp"

namespace telltale::cli {

// Remembers argv for the record (main calls it first).
void set_command_line(int argc, char** argv);

evidence::RunContext run_context(std::span<const KeyRing> keys, const input::Tokenizer& tokenizer,
                                 std::vector<evidence::InputFile> files, const evidence::SigningPublicKey& signer);

}  // namespace telltale::cli
