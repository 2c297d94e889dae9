// Scores a suspect model's choices for our watermark (radioactivity): its next-token predictions on watermarked text
// (open model, "reading mode") or the tokens of its answers (closed model). Only choices whose context window is
// fresh (never before followed by a token the suspect saw) and, with a filter, was emitted by the teacher count;
// each context once. The rules and why they keep the null exact: spec/radioactivity.md.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <unordered_set>
#include <vector>

#include "radio/context_filter.hpp"
#include "radio/predictions.hpp"
#include "radio/probability_score.hpp"
#include "score/tally.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

struct SuspectRules {
  const ContextFilter* filter = nullptr;  // teacher contexts; nullptr: every fresh context counts
  uint32_t max_rank = 1;                  // score the first max_rank predicted ids of a position (1: top-1)
  // Also weigh every scored id by the suspect's probability of it (its record's logprobs; an id without one weighs
  // 0) into the probability score (spec/radioactivity.md, section 7).
  bool probability = false;
};

// One scored tuple and where it came from, so that a run can be audited and re-scored without the suspect.
struct ScoredTuple {
  uint64_t record = 0;    // ordinal of the record in the input
  uint32_t position = 0;  // p: the suspect's choice for the id after ids[0 .. p-1]
  uint32_t rank = 0;      // 0 = the suspect's most likely id
  int32_t token = 0;
  uint64_t context = 0;  // context_hash of the window
  double score = 0;
  double probability = 0;  // the suspect's probability of the token, when its record has logprobs; else 0
};

struct SuspectCounts {
  uint64_t records = 0;
  uint64_t positions = 0;         // positions with a suspect choice
  uint64_t no_context = 0;        // ... without a full window before them
  uint64_t repeated_context = 0;  // ... whose window was already followed by an id the suspect saw, or scored
  uint64_t filtered_out = 0;      // ... whose window is not in the teacher filter
  uint64_t scored_positions = 0;
  uint64_t scored_tuples = 0;  // = tally.scored
};

class SuspectScorer {
 public:
  using TupleCallback = std::function<void(const ScoredTuple&)>;

  static Result<SuspectScorer> create(const Detector& detector, const SuspectRules& rules);

  // Scores one record (in input order: earlier records' windows count as seen). `on_tuple` (may be empty) receives
  // every scored tuple.
  void add(const PredictionRecord& record, const TupleCallback& on_tuple = {});

  const score::Tally& tally() const { return tally_; }
  const SuspectCounts& counts() const { return counts_; }
  score::Evidence evidence() const { return score::evaluate(tally_, detector_.null_model()); }
  ProbabilityEvidence probability_evidence() const { return probability_.evaluate(); }
  NullModel null_model() const { return detector_.null_model(); }
  uint32_t window_size() const { return detector_.window_size(); }

 private:
  SuspectScorer(Detector detector, const SuspectRules& rules)
      : detector_(std::move(detector)), rules_(rules), probability_(detector_.null_model()) {}
  Detector detector_;
  SuspectRules rules_;
  std::unordered_set<uint64_t> seen_;  // fingerprints of windows already followed by an id the suspect saw
  score::Tally tally_;
  ProbabilityTally probability_;
  SuspectCounts counts_;
};

// A closed-model answer as a record: the prompt the suspect was sent, then its answer; the answer's ids are the
// suspect's choices (top-1, no log-probabilities).
PredictionRecord answer_record(std::span<const int32_t> prompt, std::span<const int32_t> answer, std::string doc = {});

}  // namespace telltale::radio
