// What `detect` and `attribute` share: their input options, and turning them into a tokenizer, detectors, a document
// source and a corpus scanner, then running the scan with progress on stderr and the skipped-input report.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "score/corpus_scanner.hpp"
#include "score/partial_result.hpp"
#include "telltale/hook.hpp"

namespace telltale::cli {

struct ScanCliOptions {
  std::vector<std::string> keys;
  std::vector<std::string> expect_key_ids;
  std::string tokenizer;
  std::string expect_tokenizer_sha256;
  std::vector<std::string> inputs;
  std::string field;
  std::string split = "file";
  std::string prompt;
  double alpha = 1e-3;
  bool per_doc = false;
  bool skip_bad = false;
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
  static std::string fmt(double x, int digits);
  double seconds() const;
  bool enabled_;
  uint64_t total_;
  double next_ = 2.0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Registers the shared options on `cmd` (keys, tokenizer, inputs, scheme, field, split, prompt, per-doc, alpha,
// skip-bad, threads, no-dedup, window, expect-*, quiet).
void add_scan_options(CLI::App& cmd, ScanCliOptions& o);

// Everything a scan needs, built from the options. Members are in dependency order (the scanner points at the
// tokenizer and the detectors), so the object is heap-held and never moved.
struct ScanSetup {
  input::Tokenizer tokenizer;
  SchemeParams params;
  std::vector<Detector> detectors;
  std::vector<score::PartialResult> results;
  std::vector<score::AnalysisInfo> infos;
  input::DocumentSource source;
  std::optional<score::CorpusScanner> scanner;  // set by prepare_scan
};
Result<std::unique_ptr<ScanSetup>> prepare_scan(const ScanCliOptions& o);

// Runs the scan (progress lines on stderr unless quiet) and reports skipped inputs on stderr.
Status run_scan(ScanSetup& setup, const ScanCliOptions& o, const score::CorpusScanner::DocumentCallback& on_doc,
                const score::CorpusScanner::TokensCallback& on_tokens = {});

}  // namespace telltale::cli
