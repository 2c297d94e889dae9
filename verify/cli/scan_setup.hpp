// What `detect` and `attribute` share: their input options and turning them into a checked tokenizer and a
// detection recipe (both commands then run it through the verifier library), progress on stderr, the skipped-input
// report.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "evidence/record.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "score/corpus_scanner.hpp"

namespace telltale::cli {

struct ScanCliOptions {
  std::vector<std::string> keys;
  std::vector<std::string> expect_key_ids;
  std::string tokenizer;
  std::string expect_tokenizer_sha256;
  uint32_t vocab_size = 0;  // --vocab-size: the key's configured vocabulary (0: take the tokenizer's)
  std::vector<std::string> inputs;
  std::string field;
  std::string split = "file";
  std::string prompt;
  double alpha = 1e-3;
  bool per_doc = false;
  bool skip_bad = false;
  bool allow_empty = false;
  bool no_dedup = false;
  bool quiet = false;
  unsigned threads = 1;
  uint64_t window = 0;
  SchemeOptions scheme;
};

// Sum of the sizes of the regular files among the inputs (directories walked), for the ETA; 0 when unknown (stdin).
uint64_t total_input_bytes(const std::vector<std::string>& inputs);

// Progress on stderr, at most every two seconds and only once a run has taken two seconds.
class ProgressMeter {
 public:
  ProgressMeter(bool enabled, uint64_t total_bytes) : enabled_(enabled), total_(total_bytes) {}
  void update(const score::ScanProgress& p);

 private:
  static std::string fixed(double x, int digits);
  double seconds() const;
  bool enabled_;
  uint64_t total_;
  double next_ = 2.0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Registers the shared options on `cmd` (keys, tokenizer, inputs, scheme, field, split, prompt, per-doc, alpha,
// skip-bad, threads, no-dedup, window, expect-*, quiet).
void add_scan_options(CLI::App& cmd, ScanCliOptions& o);

// The checks of the shared options that need no file: --alpha in (0, 1), one --expect-key-id per --key.
Status check_scan_options(const ScanCliOptions& o);

// --allow-empty: accepted without --bundle only (a signed record over no documents would prove nothing), and a run
// under it that read nothing says so on stderr.
void add_allow_empty_flag(CLI::App& cmd, bool& allow_empty);
Status check_allow_empty(bool allow_empty, const std::string& bundle);
void warn_if_nothing_read(uint64_t documents_or_records);

// The tokenizer of --tokenizer, refused when --expect-tokenizer-sha256 names another or --vocab-size another size.
Result<input::Tokenizer> load_checked_tokenizer(const ScanCliOptions& o);

// The recipe a run follows, from the options (the scheme checked against the tokenizer's vocabulary).
Result<evidence::DetectionRecipe> detection_recipe(const ScanCliOptions& o, uint32_t vocab);

// The skipped-input report on stderr (nothing when none was skipped).
void report_skipped(uint64_t count, const std::vector<std::string>& messages);

}  // namespace telltale::cli
