// Scores one document's token ids under one key and scheme, with the verifier's honesty rules: the first window
// and the known prompt are skipped, each (context window, token) tuple is scored once, and (optionally) the best
// window is searched for a watermarked passage inside human text.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "score/tally.hpp"
#include "score/tuple_set.hpp"
#include "stats/windowed.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

// The switchable rules; every report records them.
struct ScoringRules {
  bool dedup = true;           // score each (context window, token) tuple once (per document, and per corpus)
  uint64_t window_min = 0;     // windowed search: shortest window in scored tuples; 0 turns the search off
  double window_ratio = 1.05;  // geometric grid of window lengths (stats/windowed.hpp)
};

// One scored tuple of a document: its fingerprint, the document's position in the input, and its score.
struct TupleEntry {
  uint64_t hash = 0;
  uint64_t doc = 0;
  double score = 0;
};

struct DocumentScore {
  uint64_t tokens = 0;         // ids in the document
  uint64_t prompt_tokens = 0;  // leading ids skipped as the known prompt
  uint64_t no_context = 0;     // ids after the prompt without a full context window before them
  uint64_t duplicates = 0;     // repeated tuples (or tuples of the prompt) not scored again; 0 without dedup
  Tally tally;                 // the scored tuples of this document
  // With dedup: the scored tuples, in order of first occurrence (doc = 0; the corpus sets it).
  std::vector<TupleEntry> entries;
  bool window_searched = false;  // windowed search ran (rules.window_min > 0 and enough scored tuples)
  stats::WindowMatch window;     // its best window (tournament: lengths and positions in g-values, m per tuple)
};

class DocumentScorer {
 public:
  // Owns a clone of `detector` (a Detector is single-threaded): make one scorer per thread.
  static Result<DocumentScorer> create(const Detector& detector, const ScoringRules& rules);

  // Scores `tokens`, whose first `prompt_tokens` ids are a known prompt: they are never scored, and with dedup
  // their tuples count as already seen. Overwrites `out`.
  void score(std::span<const int32_t> tokens, size_t prompt_tokens, DocumentScore& out);

  const ScoringRules& rules() const { return rules_; }
  NullModel null_model() const { return detector_.null_model(); }

 private:
  DocumentScorer(Detector detector, const ScoringRules& rules) : detector_(std::move(detector)), rules_(rules) {}
  void search_window(std::span<const int32_t> tokens, DocumentScore& out);
  void keep_for_window(uint64_t position, double score) {
    positions_.push_back(position);
    window_scores_.push_back(score);
  }

  Detector detector_;
  ScoringRules rules_;
  TupleSet seen_;
  std::vector<double> scores_;
  std::vector<uint64_t> hashes_;     // the tuple fingerprints of the scored positions (with dedup)
  std::vector<uint64_t> positions_;  // positions of the scored tuples, for the windowed search
  std::vector<uint8_t> hits_;
  std::vector<double> window_scores_;  // their scores, in order
};

}  // namespace telltale::score
