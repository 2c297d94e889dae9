// Scores a stream of documents under one or more analyses (key + scheme) on several threads. Work is split by
// document and results are delivered and merged in input order, so the output never depends on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "score/document_scorer.hpp"
#include "score/partial_result.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

struct ScanOptions {
  unsigned threads = 1;  // worker threads (tokenization and scoring), >= 1
  // A known prompt: in a document whose text starts with it, the ids it tokenizes to are skipped (and, with dedup,
  // their tuples count as seen). Pre-tokenized documents that start with those ids skip them too. "" = none.
  std::string prompt;
  size_t batch_documents = 512;          // documents read ahead and scored together
  size_t batch_bytes = size_t{8} << 20;  // ... or fewer when they hold this many bytes of text
  // With dedup: the corpus-wide tuple set of each analysis spills to sorted runs in `spill_dir` beyond about this many
  // bytes (PartialResult::set_memory_limit). 0: held in memory whatever its size.
  uint64_t memory_limit = 0;
  std::string spill_dir;
};

struct ScanProgress {
  uint64_t bytes = 0;      // input bytes read
  uint64_t documents = 0;  // documents scored
  uint64_t tokens = 0;     // ids scored or skipped
};

class CorpusScanner {
 public:
  // `tokenizer` may be null when every input is pre-tokenized (a text document is then an error). Each detector is
  // cloned per thread. `infos[i]` describes detectors[i] and seeds the partial result of that analysis.
  static Result<CorpusScanner> create(const input::Tokenizer* tokenizer, std::span<const Detector* const> detectors,
                                      const ScoringRules& rules, const ScanOptions& options);
  CorpusScanner(CorpusScanner&&) noexcept;
  CorpusScanner& operator=(CorpusScanner&&) noexcept;
  ~CorpusScanner();

  using DocumentCallback = std::function<void(const input::Document&, std::span<const DocumentScore>)>;
  using ProgressCallback = std::function<void(const ScanProgress&)>;
  // A document's token ids and how many of the leading ones are the known prompt (for analyses beside the scoring,
  // such as account attribution).
  using TokensCallback = std::function<void(const input::Document&, std::span<const int32_t> ids, size_t prompt)>;

  // Reads every document of `source`, scores it under each analysis, calls on_tokens and then on_document (if set)
  // in input order, on the calling thread, and adds it to results[i] (one per detector, in the same order).
  // Documents that `source` skips (skip_bad) are added to every result's skipped count. Errors name the file and line.
  Status run(input::DocumentSource& source, std::span<PartialResult> results, const DocumentCallback& on_document = {},
             const ProgressCallback& on_progress = {}, const TokensCallback& on_tokens = {});

 private:
  struct Impl;
  explicit CorpusScanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The AnalysisInfo of a detector under `rules` (key id from `keys`, tokenizer hash from `tokenizer_sha256`).
AnalysisInfo analysis_info(const Detector& detector, const std::string& key_id, const ScoringRules& rules,
                           const std::string& tokenizer_sha256);

}  // namespace telltale::score
