// Per-document scoring: which positions count (spec/statistics.md section 1, spec/partial-results.md) and the scores
// of those that do, from the core Detector.
#include "score/document_scorer.hpp"

#include <algorithm>

#include "score/tuple_hash.hpp"

namespace telltale::score {

Result<DocumentScorer> DocumentScorer::create(const Detector& detector, const ScoringRules& rules) {
  if (rules.window_min > 0 && !(rules.window_ratio >= 1.0)) {
    return invalid_argument("the window length ratio must be >= 1");
  }
  if (rules.window_min > 0 && detector.null_model().kind == NullKind::kWeightedBits) {
    return invalid_argument("the window search is not available for the tournament's weighted-mean score");
  }
  auto clone = detector.clone();
  if (!clone) return clone.status();
  return DocumentScorer(std::move(clone).value(), rules);
}

void DocumentScorer::score(std::span<const int32_t> tokens, size_t prompt_tokens, DocumentScore& out) {
  const size_t n = tokens.size();
  const size_t w = detector_.window_size();
  const size_t p = std::min(prompt_tokens, n);
  const size_t first = std::max(p, std::min(w, n));
  out.tokens = n;
  out.prompt_tokens = p;
  out.no_context = first - p;
  out.duplicates = 0;
  out.tally = {};
  out.entries.clear();
  out.window_searched = false;
  out.window = {};
  positions_.clear();
  window_scores_.clear();
  if (first >= n) return;

  scores_.resize(n - first);
  // first >= window_size() here (first < n) and scores_ has room for every score: the call cannot refuse.
  (void)detector_.score_sequence(tokens, first, scores_);
  const bool track_positions = rules_.window_min > 0;
  if (!rules_.dedup) {
    for (size_t i = first; i < n; ++i) {
      out.tally.add(scores_[i - first]);
      if (track_positions) keep_for_window(i, scores_[i - first]);
    }
  } else {
    seen_.reset(n);
    // Tuples of the prompt (those with a full window inside it) count as seen: copying the prompt is no evidence.
    for (size_t i = w; i < p; ++i) seen_.insert(tuple_hash(tokens.subspan(i - w, w), tokens[i]));
    out.entries.reserve(n - first);
    // The fingerprints first, in a loop of their own: they are independent, so their multiplies overlap, where
    // interleaved with the set's probes each would wait for the probe before it.
    hashes_.resize(n - first);
    for (size_t i = first; i < n; ++i) hashes_[i - first] = tuple_hash(tokens.subspan(i - w, w), tokens[i]);
    for (size_t i = first; i < n; ++i) {
      const uint64_t h = hashes_[i - first];
      if (!seen_.insert(h)) {
        ++out.duplicates;
        continue;
      }
      const double s = scores_[i - first];
      out.entries.push_back({h, 0, s});
      out.tally.add(s);
      if (track_positions) keep_for_window(i, s);
    }
  }
  if (track_positions) search_window(tokens, out);
}

void DocumentScorer::search_window(std::span<const int32_t> tokens, DocumentScore& out) {
  const NullModel null = detector_.null_model();
  const size_t w = detector_.window_size();
  stats::WindowSearchOptions options;
  options.min_length = rules_.window_min;
  options.length_ratio = rules_.window_ratio;
  switch (null.kind) {
    case NullKind::kBernoulli:
      hits_.clear();
      for (const double s : window_scores_) hits_.push_back(s > 0.5 ? 1 : 0);  // KGW scores are exactly 0 or 1
      if (hits_.size() < options.min_length) return;
      out.window = stats::find_best_binomial_window(hits_, null.p, options);
      break;
    case NullKind::kExponential:
      if (window_scores_.size() < options.min_length) return;
      out.window = stats::find_best_gamma_window(window_scores_, options);
      break;
    case NullKind::kBinomial:
      // Under H0 every g-value is an independent fair bit, so any contiguous run of them (in layer order, token
      // after token) is Binomial(L, 1/2): the windows run over g-values, m per tuple.
      hits_.clear();
      for (const uint64_t i : positions_) {
        const uint32_t g = detector_.g_values(tokens.subspan(i - w, w), tokens[i]);
        for (uint32_t l = 0; l < null.layers; ++l) hits_.push_back(static_cast<uint8_t>((g >> l) & 1u));
      }
      options.min_length *= null.layers;
      if (hits_.size() < options.min_length) return;
      out.window = stats::find_best_binomial_window(hits_, 0.5, options);
      break;
    case NullKind::kWeightedBits:
      return;  // no window search for the weighted mean: DocumentScorer::create refuses the combination
  }
  out.window_searched = true;
}

}  // namespace telltale::score
