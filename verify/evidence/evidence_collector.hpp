// Gathers, document by document in input order, what an evidence record holds beyond the corpus summary: each
// document's own test, and the series the report plots (the pooled test as documents are added, the per-tuple scores
// against their null law, the scores along the document with the best window).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <unordered_set>
#include <vector>

#include "input/document_source.hpp"
#include "score/document_scorer.hpp"
#include "score/partial_result.hpp"

namespace telltale::evidence {

// At most this many points of the evidence curve are kept (every k-th document, k doubling as needed; the last
// document is always kept), and at most this many scores of the best-window document.
inline constexpr size_t kMaxCurvePoints = 512;
inline constexpr size_t kMaxTraceScores = 20000;

class EvidenceCollector {
 public:
  EvidenceCollector(std::vector<score::AnalysisInfo> infos, double alpha);

  // The next document in input order (a CorpusScanner::DocumentCallback).
  void add(const input::Document& doc, std::span<const score::DocumentScore> scores);

  // Every document's JSON (score::document_json), in input order.
  const nlohmann::json& documents() const { return documents_; }
  // One object per analysis: "curve" (scored tuples vs log10 p of the pooled test so far), "scores" (histogram of
  // the unique tuples' scores with the counts expected under the null; null without dedup) and "window" (the
  // document with the best window: its scores in order and the window; null when no window search ran).
  nlohmann::json plots() const;

 private:
  struct Series {
    std::unordered_set<uint64_t> seen;  // tuple fingerprints already pooled (dedup)
    score::Tally pooled;
    std::vector<std::array<double, 3>> curve;  // document ordinal, scored tuples, log10 p
    std::vector<uint64_t> histogram;
    bool has_window = false;
    double window_log_p = 0;
    uint64_t window_doc = 0;
    nlohmann::json window_source;
    stats::WindowMatch window;
    std::vector<double> window_scores;
    bool truncated_scores = false;
  };
  void add_curve_point(Series& s, const NullModel& null, uint64_t doc);

  std::vector<score::AnalysisInfo> infos_;
  double alpha_;
  std::vector<Series> series_;
  nlohmann::json documents_ = nlohmann::json::array();
  uint64_t count_ = 0;
  uint64_t stride_ = 1;
};

// The histogram bins for a null law: KGW {0, 1}; tournament 0..m g-values; Gumbel 16 bins of width 1/2 (the last
// open-ended). bin_of maps a score to its bin; null_mass gives each bin's probability under H0.
size_t histogram_bin(const NullModel& null, double score);
std::vector<double> null_bin_mass(const NullModel& null);
// The "scores" plot series: the bins' lower edges, the observed counts of `scored` tuples, and the counts the null
// law expects (scored times each bin's mass).
nlohmann::json score_histogram_json(const NullModel& null, const std::vector<uint64_t>& observed, uint64_t scored);

}  // namespace telltale::evidence
