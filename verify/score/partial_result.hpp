// The mergeable result of scoring part of a corpus under one key and scheme: counts, exact score sums and the set of
// scored tuple fingerprints, so that shards scored anywhere merge into exactly the result of one pass
// (spec/partial-results.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "score/document_scorer.hpp"
#include "score/tally.hpp"
#include "stats/windowed.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

// What was tested: results merge only when all of it is equal.
struct AnalysisInfo {
  std::string key_id;         // public key id, hex
  std::string configuration;  // describe(SchemeParams): scheme, parameters, vocabulary size
  NullModel null;             // the null law of a per-tuple score
  uint32_t window_size = 0;   // context ids a token needs before it can be scored (first-window skip)
  ScoringRules rules;
  std::string tokenizer_sha256;  // of the SentencePiece model that made the ids ("" for pre-tokenized input only)
};
bool same_analysis(const AnalysisInfo& a, const AnalysisInfo& b);

// The corpus-level result of one analysis.
struct CorpusSummary {
  uint64_t documents = 0;                    // documents scored (bad ones skipped are not counted here)
  uint64_t skipped_bad = 0;                  // bad documents or files skipped under --skip-bad
  uint64_t tokens = 0;                       // ids read
  uint64_t prompt_tokens = 0;                // skipped as a known prompt
  uint64_t no_context = 0;                   // skipped for want of a full context window
  uint64_t duplicates_in_documents = 0;      // tuples repeated inside one document (dedup)
  uint64_t duplicates_across_documents = 0;  // tuples already scored in an earlier document (dedup)
  Evidence pooled;                           // the test: pooled count/sum over the unique tuples of the corpus
  // Fisher's combination of per-document tests, each over the tuples the document was first to contain (disjoint
  // sets, hence independent under H0); documents with nothing new are left out. Reported separately.
  uint64_t fisher_documents = 0;
  double fisher_log_p = 0;
  // Windowed search: the document with the best window (corrected for the windows tried in it), and that p-value
  // corrected again (Bonferroni) for the number of documents searched.
  uint64_t window_documents = 0;
  uint64_t window_doc = 0;
  stats::WindowMatch window;
  double window_log_p = 0;
};

class TupleRuns;

class PartialResult {
 public:
  // Everything a partial result holds, in a form the partial-file format writes out field by field.
  struct State {
    uint64_t documents = 0;
    uint64_t skipped_bad = 0;
    uint64_t tokens = 0;
    uint64_t prompt_tokens = 0;
    uint64_t no_context = 0;
    uint64_t duplicates_in_documents = 0;
    uint64_t local_tuples = 0;       // sum over documents of their unique tuples (dedup)
    Tally raw;                       // without dedup: the pooled tally
    std::vector<Tally> doc_tallies;  // without dedup: one per document, for Fisher
    // With dedup: the unique tuples, sorted by hash (first occurrence in input order kept) after seal().
    std::vector<TupleEntry> entries;
    uint64_t window_documents = 0;
    uint64_t window_doc = 0;
    stats::WindowMatch window;  // best so far (length 0: none)
  };

  explicit PartialResult(AnalysisInfo info);
  PartialResult(PartialResult&&) noexcept;
  PartialResult& operator=(PartialResult&&) noexcept;
  ~PartialResult();
  static PartialResult from_state(AnalysisInfo info, State state);

  const AnalysisInfo& info() const { return info_; }
  // The state, sealed (entries sorted and unique). Once tuples were spilled (set_memory_limit), `entries` holds only
  // those since the last spill: visit_entries() sees them all.
  const State& state();

  // Bounds the memory of the tuple set (with dedup) to about `bytes`: beyond it the set is written to disk as sorted
  // runs in a temporary file under `dir` and merged back k-way when summarized or written out. 0: no bound.
  void set_memory_limit(uint64_t bytes, std::string dir);
  // Visits every unique tuple in hash order (from memory, or merged back from the spilled runs).
  Status visit_entries(const std::function<void(const TupleEntry&)>& visit);
  // summarize(), with the errors of reading spilled runs back (or of having spilled them). summarize() may be used
  // only on a result that never spilled.
  Result<CorpusSummary> summarize_checked();
  // The first failure to spill (ok while none): a scan stops on it rather than read the rest of the corpus.
  const Status& spill_error() const { return spill_error_; }

  // Appends the next document in input order; it gets the ordinal documents().
  void add_document(const DocumentScore& doc);
  void add_skipped(uint64_t count) { state_.skipped_bad += count; }
  // Appends `next`, whose documents follow all of these in input order. Fails when the analyses differ.
  Status append(PartialResult&& next);

  CorpusSummary summarize();

  // Threads that merging the staged tuples may use (>= 1; the result does not depend on it).
  void set_threads(unsigned threads) { threads_ = threads < 1 ? 1 : threads; }

 private:
  void seal();
  void spill();

  static constexpr size_t kStageBuckets = 256;
  static constexpr int kStageShift = 56;  // bucket = top 8 bits of the hash

  AnalysisInfo info_;
  State state_;  // state_.entries: sealed, sorted by hash and unique
  // Tuples added since the last seal, bucketed by hash (in input order within a bucket).
  std::vector<std::vector<TupleEntry>> staged_;
  size_t staged_count_ = 0;
  unsigned threads_ = 1;
  uint64_t memory_limit_ = 0;
  std::string spill_dir_;
  std::unique_ptr<TupleRuns> runs_;  // spilled runs, in input order (none while the set fits in memory)
  Status spill_error_;               // the first failure to spill, reported by summarize_checked()
};

// Adds b's counters (not its records) to a's, b's documents following a's: documents, tokens, skips, the raw tally
// and the best window (ties keep a's).
void add_counters(PartialResult::State& a, const PartialResult::State& b);

// The summary from an analysis's counters, its pooled tally, the per-document ln p values for Fisher (documents with
// at least one scored tuple, in document order) and the number of unique tuples: shared by summarize() and the
// streaming merge, so that both give the same bits.
CorpusSummary finish_summary(const AnalysisInfo& info, const PartialResult::State& counters, const Tally& pooled,
                             std::span<const double> doc_log_p, uint64_t unique_tuples);

}  // namespace telltale::score
