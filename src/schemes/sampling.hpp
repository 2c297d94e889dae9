// Internal: plain sampling from a list of logits with a given uniform, by inverse CDF in list order (double precision).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace telltale::detail {

// Index of the entry drawn with probability softmax(logit), or -1 when no id < vocab_size has a finite logit.
// Walks the list in its own order: a dense row walks ids upward, so candidates given in id order draw identically.
template <typename List>
ptrdiff_t sample_list(const List& list, uint32_t vocab_size, double uniform) {
  double max_logit = -std::numeric_limits<double>::infinity();
  ptrdiff_t last = -1;
  for (size_t i = 0; i < list.size(); ++i) {
    const double l = list.logit(i);
    if (list.id(i) < vocab_size && std::isfinite(l)) {
      if (l > max_logit) max_logit = l;
      last = static_cast<ptrdiff_t>(i);
    }
  }
  if (last < 0) return -1;
  double total = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const double l = list.logit(i);
    if (list.id(i) < vocab_size && std::isfinite(l)) total += std::exp(l - max_logit);
  }
  const double target = uniform * total;
  double cum = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const double l = list.logit(i);
    if (list.id(i) < vocab_size && std::isfinite(l)) {
      cum += std::exp(l - max_logit);
      if (cum > target) return static_cast<ptrdiff_t>(i);
    }
  }
  return last;  // rounding left target at the very top: the last finite entry
}

}  // namespace telltale::detail
