// The scoring walk of a suspect record: positions in order; at each, a fresh (and, with a filter, teacher) window
// scores the suspect's ids; then the window is marked seen, because the id after it is now in the suspect's view.
#include "radio/suspect_scorer.hpp"

#include <algorithm>
#include <cmath>

namespace telltale::radio {

Result<SuspectScorer> SuspectScorer::create(const Detector& detector, const SuspectRules& rules) {
  if (rules.max_rank < 1 || rules.max_rank > kMaxPredictedPerPosition)
    return invalid_argument("the number of predicted ids scored per position must be in [1, " +
                            std::to_string(kMaxPredictedPerPosition) + "]");
  if (rules.filter && rules.filter->window_size() != detector.window_size())
    return invalid_argument("the context filter holds " + std::to_string(rules.filter->window_size()) +
                            "-token windows but the scheme's window is " + std::to_string(detector.window_size()) +
                            " tokens (build the filter with the same --context-width and seeding)");
  auto clone = detector.clone();
  if (!clone) return clone.status();
  return SuspectScorer(std::move(clone).value(), rules);
}

void SuspectScorer::add(const PredictionRecord& r, const TupleCallback& on_tuple) {
  const uint64_t ordinal = counts_.records++;
  const size_t w = detector_.window_size();
  const size_t n = r.ids.size();
  const std::span<const int32_t> ids(r.ids);
  size_t next = 0;  // the next entry of r.positions
  // Positions run to n inclusive: a prediction after the last id is scored, but no id follows it to be marked.
  for (size_t p = w; p <= n; ++p) {
    const std::span<const int32_t> window = ids.subspan(p - w, w);
    uint64_t h = 0;
    bool hashed = false;
    while (next < r.positions.size() && r.positions[next] < p) {  // positions before a full window
      ++counts_.positions;
      ++counts_.no_context;
      ++next;
    }
    if (next < r.positions.size() && r.positions[next] == p) {
      ++counts_.positions;
      h = context_hash(window);
      hashed = true;
      if (seen_.count(h) != 0) {
        ++counts_.repeated_context;
      } else if (rules_.filter && !rules_.filter->contains_hash(h)) {
        ++counts_.filtered_out;
      } else {
        ++counts_.scored_positions;
        const auto& choices = r.predicted[next];
        const size_t k = std::min<size_t>(choices.size(), rules_.max_rank);
        for (size_t rank = 0; rank < k; ++rank) {
          const double s = detector_.score(window, choices[rank]);
          tally_.add(s);
          ++counts_.scored_tuples;
          const double prob = r.logprobs.empty() ? 0.0 : std::exp(static_cast<double>(r.logprobs[next][rank]));
          if (rules_.probability) probability_.add(prob, s);
          if (on_tuple)
            on_tuple({ordinal, static_cast<uint32_t>(p), static_cast<uint32_t>(rank), choices[rank], h, s, prob});
        }
        // A scored window is spent even when no id follows it: its context counts once.
        seen_.insert(h);
      }
      ++next;
    }
    if (p < n) seen_.insert(hashed ? h : context_hash(window));
  }
  for (; next < r.positions.size(); ++next) {  // only when n < w: every position lacks a window
    ++counts_.positions;
    ++counts_.no_context;
  }
}

PredictionRecord answer_record(std::span<const int32_t> prompt, std::span<const int32_t> answer, std::string doc) {
  PredictionRecord r;
  r.doc = std::move(doc);
  r.ids.assign(prompt.begin(), prompt.end());
  r.ids.insert(r.ids.end(), answer.begin(), answer.end());
  for (size_t i = prompt.empty() ? 1 : 0; i < answer.size(); ++i) {  // position 0 has no context at all
    r.positions.push_back(static_cast<uint32_t>(prompt.size() + i));
    r.predicted.push_back({answer[i]});
  }
  return r;
}

}  // namespace telltale::radio
