// Gumbel-max / exponential sampling (Aaronson): the generation side (argmax r^(1/p)) and the detection score
// (-ln(1 - r)), together. For the draw, r for an id is its 32-bit keystream value v mapped to the cell's midpoint
// (v + 1/2) / 2^32, never 0 or 1. For the score, r is the cell's lower end v / 2^32, so that the score is at most
// the Exp(1) variable of a continuous uniform in the same cell: the Gamma(n, 1) tail is then exact or conservative,
// never anti-conservative (with the midpoint, the top cell would score 33 ln 2 where the tail promises 2^-33, not
// the true 2^-32).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

#include "hook/row_scan.hpp"
#include "hook/step.hpp"
#include "telltale/scheme_table.hpp"

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

// An upper bound on G(v) = race_key(0, v) for every v with the same top 8 bits: G at the top of the bucket plus 1e-6.
// The exact G rises with v; glibc's log is within 1 ulp, so the computed G is within ~1e-14 of the exact one on the
// whole range (|G| < 23) and 1e-6 covers any non-monotonic rounding many times over.
inline double bucket_bound(uint32_t v) {
  static const auto table = [] {
    std::array<double, 256> t{};
    for (uint32_t b = 0; b < 256; ++b) t[b] = -std::log(-std::log(uniform(b << 24 | 0xffffffu))) + 1e-6;
    return t;
  }();
  return table[v >> 24];
}

// The race so far: the best key and its entry. offer() keeps the argmax with ties to the lower id. An entry whose key
// cannot reach the best one is left out without its two logarithms: its key fl(logit + G) is at most
// fl(logit + bucket_bound) by monotone rounding, and when that is below the best key it can neither win nor tie.
struct Race {
  double best_key;
  ptrdiff_t best;
  uint32_t best_id;
  void offer(size_t idx, uint32_t id, double logit, uint32_t v) {
    if (logit + bucket_bound(v) < best_key) return;
    const double key = race_key(logit, v);
    if (key > best_key || (key == best_key && id < best_id)) {
      best_key = key;
      best = static_cast<ptrdiff_t>(idx);
      best_id = id;
    }
  }
};

// The race's start: the entry `top` (the largest logit, lowest id among equals) keyed first, and the floor below
// which no logit can win (best key - max_gumbel()).
inline Race start_race(const detail::StepKeys& keys, size_t top, uint32_t top_id, double top_logit, double& floor) {
  uint32_t v = 0;
  keys.values(&top_id, 1, &v);
  const Race race{race_key(top_logit, v), static_cast<ptrdiff_t>(top), top_id};
  floor = race.best_key - max_gumbel();
  return race;
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
  double floor = 0;
  Race race = start_race(keys, static_cast<size_t>(top), list.id(static_cast<size_t>(top)), top_logit, floor);
  size_t k = 0;
  auto flush = [&] {
    keys.values(ws.ids.data(), k, ws.values.data());
    for (size_t j = 0; j < k; ++j) race.offer(ws.order[j], ws.ids[j], list.logit(ws.order[j]), ws.values[j]);
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
  return race.best;
}

// The same on a dense row (ids 0..n-1, every one below the vocabulary size), with the same answer: the entries are
// found by vectorised range scans instead of a test per id. A row with at most kBatch finite logits (a server's top-k)
// is read once; a fuller one three times (its largest logit, where it is, the ids above the floor).
inline ptrdiff_t choose_row(const detail::StepKeys& keys, detail::Workspace& ws, const float* row, uint32_t n) {
  constexpr float kMax = std::numeric_limits<float>::max();
  constexpr size_t kBatch = detail::Workspace::kBatch;
  uint32_t* finite = ws.survivors.data();
  const detail::RangeHits found = detail::scan_range(row, 0, n, -kMax, kMax, finite, kBatch);
  if (found.count == 0) return -1;
  const bool all_found = found.next == n;
  const float top_logit = all_found ? found.max : detail::max_in_range(row, n, -kMax, kMax);
  uint32_t top = 0;
  if (all_found) {
    while (row[finite[top]] != top_logit) ++top;
    top = finite[top];
  } else {
    detail::scan_range(row, 0, n, top_logit, top_logit, &top, 1);
  }
  double floor = 0;
  Race race = start_race(keys, top, top, top_logit, floor);
  const auto offer_all = [&](size_t k) {
    keys.values_ascending(ws.ids.data(), k, ws.values.data());
    for (size_t j = 0; j < k; ++j) {
      if (ws.ids[j] != top) race.offer(ws.ids[j], ws.ids[j], row[ws.ids[j]], ws.values[j]);
    }
  };
  if (all_found) {
    size_t k = 0;
    for (size_t j = 0; j < found.count; ++j) {
      if (!(row[finite[j]] < floor)) ws.ids[k++] = finite[j];
    }
    offer_all(k);
    return race.best;
  }
  // The float form of "logit >= floor": the smallest float >= floor, and no lower than the lowest finite float.
  float lo = static_cast<float>(floor);
  if (static_cast<double>(lo) < floor) lo = std::nextafter(lo, std::numeric_limits<float>::infinity());
  if (!(lo >= -kMax)) lo = -kMax;
  for (size_t next = 0; next < n;) {
    const detail::RangeHits hits = detail::scan_range(row, next, n, lo, kMax, ws.ids.data(), kBatch);
    offer_all(hits.count);
    next = hits.next;
  }
  return race.best;
}

// The scheme's entry in the scheme table (telltale/scheme_table.hpp), defined in its .cpp.
extern const SchemeInfo kInfo;

}  // namespace telltale::gumbel
