// The user-named inputs read as streams (predictions files, answer logs, prompt files, registries, filters):
// opened as regular files only, never blocking on a FIFO, and refused when they are telltale key files.
#pragma once

#include <istream>
#include <memory>
#include <string>
#include <string_view>

#include "telltale/status.hpp"

namespace telltale::input {

// Opens `path` with open_input_file (regular files only; "<path>: cannot open <what>: <errno text>", "<path>: <what>
// is a FIFO, not a regular file") and looks at its first bytes: a telltale key, signing key or signing public key
// file is refused with "<path>: this is a telltale key file, not <expected>" before any byte of it reaches a
// parser, so that no message can quote it. `what` names the file's role ("predictions file"), `expected` what it
// should hold ("a predictions file"); an empty `expected` skips the key file check (for reading a signing public
// key, which is one of the tags). The stream reads the file from its first byte; seekg to an absolute offset works.
Result<std::unique_ptr<std::istream>> open_input_stream(const std::string& path, std::string_view what,
                                                        std::string_view expected);

// The whole of such a file (same checks and messages); a read error is "<path>: cannot read <what>: <reason>".
Result<std::string> read_input_file(const std::string& path, std::string_view what, std::string_view expected);

}  // namespace telltale::input
