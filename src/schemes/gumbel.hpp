// Gumbel-max / exponential sampling (Aaronson): the generation side (argmax r^(1/p)) and the detection score
// (-ln(1 - r)), together. For the draw, r for an id is its 32-bit keystream value v mapped to the cell's midpoint
// (v + 1/2) / 2^32, never 0 or 1. For the score, r is the cell's lower end v / 2^32, so that the score is at most
// the Exp(1) variable of a continuous uniform in the same cell: the Gamma(n, 1) tail is then exact or conservative,
// never anti-conservative (with the midpoint, the top cell would score 33 ln 2 where the tail promises 2^-33, not
// the true 2^-32).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#include "hook/step.hpp"

namespace telltale::gumbel {

inline constexpr unsigned kBits = 32;

inline double uniform(uint32_t v) { return (static_cast<double>(v) + 0.5) * 0x1p-32; }
// Under the null v is uniform on [0, 2^32), so -ln(1 - v / 2^32) is stochastically below Exp(1).
inline double score(uint32_t v) { return -std::log1p(-static_cast<double>(v) * 0x1p-32); }
// argmax_t r_t^(1/p_t) = argmax_t (logit_t + G(r_t)) with G(r) = -ln(-ln r): the Gumbel-max form, free of softmax.
inline double race_key(double logit, uint32_t v) { return logit - std::log(-std::log(uniform(v))); }
// The largest G any id can get: an id whose logit is below (a known key) - kMaxGumbel cannot win.
inline double max_gumbel() {
  static const double g = -std::log(-std::log(uniform(0xffffffffu)));
  return g;
}

// Index of the winning entry, or -1 when no id < vocab_size has a finite logit. Ties go to the lower id, so the
// answer does not depend on the list's order. Only ids that can still win are keyed (exact pruning by max_gumbel).
template <typename List>
ptrdiff_t choose(const detail::StepKeys& keys, detail::Workspace& ws, const List& list, uint32_t vocab_size) {
  ptrdiff_t top = -1;
  double top_logit = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < list.size(); ++i) {
    const double l = list.logit(i);
    if (list.id(i) >= vocab_size || !std::isfinite(l)) continue;
    if (top < 0 || l > top_logit || (l == top_logit && list.id(i) < list.id(static_cast<size_t>(top)))) {
      top = static_cast<ptrdiff_t>(i);
      top_logit = l;
    }
  }
  if (top < 0) return -1;
  uint32_t v = 0;
  const uint32_t top_id = list.id(static_cast<size_t>(top));
  keys.values(&top_id, 1, &v);
  double best_key = race_key(top_logit, v);
  ptrdiff_t best = top;
  const double floor = best_key - max_gumbel();
  size_t k = 0;
  auto flush = [&] {
    keys.values(ws.ids.data(), k, ws.values.data());
    for (size_t j = 0; j < k; ++j) {
      const size_t idx = ws.order[j];
      const double key = race_key(list.logit(idx), ws.values[j]);
      if (key > best_key || (key == best_key && list.id(idx) < list.id(static_cast<size_t>(best)))) {
        best_key = key;
        best = static_cast<ptrdiff_t>(idx);
      }
    }
    k = 0;
  };
  for (size_t i = 0; i < list.size(); ++i) {
    const double l = list.logit(i);
    if (list.id(i) >= vocab_size || !std::isfinite(l) || l < floor || static_cast<ptrdiff_t>(i) == top) continue;
    ws.ids[k] = list.id(i);
    ws.order[k] = static_cast<uint32_t>(i);
    if (++k == detail::Workspace::kBatch) flush();
  }
  if (k > 0) flush();
  return best;
}

}  // namespace telltale::gumbel
