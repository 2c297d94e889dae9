// What every `telltale` subcommand shares: exit codes, one-line errors, the scheme options, loading keys and models.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evidence/signing_key.hpp"
#include "exit_codes.hpp"
#include "telltale/keyring.hpp"
#include "telltale/scheme.hpp"
#include "telltale/scheme_table.hpp"
#include "telltale/status.hpp"

namespace telltale::cli {

// Prints "telltale: error: <message>" on stderr (one line) and returns kExitError.
int fail(const std::string& message);
int fail(const Status& status);

// Flushes standard output and checks that nothing written to it was lost (a full disk, a closed or broken stdout):
// "writing standard output: <reason>". The error is reported once: the stream's error flag is cleared.
Status flush_stdout();
// Prints `line` and a newline on stdout; a write that fails on the way is an error with its reason at once, so that
// a long run does not go on printing into a full disk or a closed pipe.
Status print_line(const std::string& line);

// Reads each key file; with `expect_ids` (one per file, or empty), refuses a key whose public id differs.
Result<std::vector<KeyRing>> read_key_files(const std::vector<std::string>& paths,
                                            const std::vector<std::string>& expect_ids = {});

// Reads an evidence signing public key file (telltale keygen --signing writes it as OUT.pub).
Result<evidence::SigningPublicKey> read_public_key(const std::string& path);

// Reads the evidence signing key of --signing-key; none when `path` is empty.
Result<std::optional<evidence::SigningKey>> read_signing_key(const std::string& path);

// The options that fix a scheme's parameters, shared by generate, detect and keyinfo. The scheme-specific ones come
// from the scheme table (one flag per field, --gamma, --account-delta, ...); an empty one takes the scheme's default.
struct SchemeOptions {
  std::string scheme = "kgw";
  uint32_t context_width = SchemeParams{}.context_width;
  bool self_hash = false;
  int skip_repeated = -1;  // -1: the scheme's default; 0/1 forced
  std::vector<std::string> fields = std::vector<std::string>(scheme_fields().size());  // scheme_fields() order
};
void add_scheme_options(CLI::App& command, SchemeOptions& options);

// Makes every unsigned option of `app` and its subcommands refuse a negative value: CLI11 would otherwise wrap "-3"
// to 2^64 - 3 without a word. Call once, after every command is added.
void refuse_negative_unsigned(CLI::App& app);
// The parameters for a tokenizer of `vocab_size` ids, validated.
Result<SchemeParams> scheme_params(const SchemeOptions& options, uint32_t vocab_size);

}  // namespace telltale::cli
