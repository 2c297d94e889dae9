// SynthID-style tournament sampling with two-way matches (Dathathri et al., Nature 2024): the generation side
// (reweight the distribution layer by layer with keyed g-values) and the detection score (the g-values), together.
// g_l(id) is bit l of the id's 32-bit keystream value, for layers l = 0 .. m-1.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "hook/row_scan.hpp"
#include "hook/step.hpp"
#include "telltale/scheme.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::tournament {

inline constexpr unsigned kBits = 32;

inline uint32_t g(uint32_t value, uint32_t layer) { return (value >> layer) & 1u; }
inline uint32_t layer_mask(uint32_t layers) { return layers >= 32 ? 0xffffffffu : (1u << layers) - 1; }
// The detection score of a token: how many of its m g-values are 1. Binomial(m, 1/2) under the null.
inline double score(uint32_t value, uint32_t layers) {
  return static_cast<double>(__builtin_popcount(value & layer_mask(layers)));
}

// The weighted-mean detection score: sum over layers of tournament_weight(l, m) * g_l (include/telltale/scheme.hpp).
inline double weighted_score(uint32_t value, uint32_t layers) {
  uint32_t sum = 0;
  for (uint32_t l = 0; l < layers; ++l) sum += tournament_weight(l, layers) * g(value, l);
  return static_cast<double>(sum);
}

// Storage for one step's distribution; sized to the vocabulary once, when a sequence is created.
struct Buffers {
  std::vector<uint32_t> index;   // entry index in the list
  std::vector<uint32_t> values;  // keyed 32-bit value of the entry's id
  std::vector<double> probs;
  void reserve(size_t n) {
    index.resize(n);
    values.resize(n);
    probs.resize(n);
  }
};

// One element's share of a layer: its p unchanged (g = 0) or +0.0, without a branch on the random g.
inline double if_g(uint32_t g, double p) {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(p) & (uint64_t{0} - g));
}

// One layer over the n entries: p *= 1 + g_layer - mass, and (unless `last`) the next layer's mass, the sum in entry
// order of the updated p with g_(layer+1) = 1 (0 when last). tournament.cpp: AVX2 when the CPU has it, same bits.
double layer_pass(double* probs, const uint32_t* values, size_t n, uint32_t layer, double mass, bool last);

// The tournament weights over buf's n entries, whose index and keyed value are filled: p = softmax(logit) and then,
// for each layer l, p *= 1 + g_l - mass_l with mass_l = sum of p over the entries with g_l = 1. Every sum runs over the
// entries in buf's order, as the layer-by-layer loops did; the next layer's mass is summed in the pass that updates p
// (one pass per layer), which adds the same numbers in the same order: the same bits.
template <typename List>
void reweight(Buffers& buf, size_t n, const List& list, double max_logit, uint32_t layers) {
  const uint32_t* values = buf.values.data();
  double* probs = buf.probs.data();
  double total = 0;
  for (size_t j = 0; j < n; ++j) {
    probs[j] = std::exp(static_cast<double>(list.logit(buf.index[j])) - max_logit);
    total += probs[j];
  }
  double mass = 0;
  for (size_t j = 0; j < n; ++j) {
    probs[j] /= total;
    mass += if_g(g(values[j], 0), probs[j]);
  }
  for (uint32_t layer = 0; layer < layers; ++layer) {
    mass = layer_pass(probs, values, n, layer, mass, layer + 1 == layers);
  }
}

// Computes the tournament distribution over the list's finite entries (ids < vocab_size), walking the list in its
// own order: each layer l multiplies p by (1 + g_l - sum_v g_l(v) p(v)), the exact distribution of a two-way
// tournament's winner (Dathathri et al., SI). Returns the number of entries in buf (0: nothing finite).
template <typename List>
size_t distribution(const detail::StepKeys& keys, detail::Workspace& ws, Buffers& buf, const List& list,
                    uint32_t vocab_size, uint32_t layers) {
  double max_logit = -std::numeric_limits<double>::infinity();
  size_t n = 0;
  for (size_t i = 0; i < list.size() && n < buf.index.size(); ++i) {
    const double l = list.logit(i);
    if (list.id(i) >= vocab_size || !std::isfinite(l)) continue;
    buf.index[n++] = static_cast<uint32_t>(i);
    if (l > max_logit) max_logit = l;
  }
  if (n == 0) return 0;
  for (size_t s = 0; s < n; s += detail::Workspace::kBatch) {
    const size_t m = n - s < detail::Workspace::kBatch ? n - s : detail::Workspace::kBatch;
    for (size_t j = 0; j < m; ++j) ws.ids[j] = list.id(buf.index[s + j]);
    keys.values(ws.ids.data(), m, buf.values.data() + s);
  }
  reweight(buf, n, list, max_logit, layers);
  return n;
}

// The same on a dense row (ids 0..n-1, all below the vocabulary size), with the same bits: the finite entries and
// their largest logit come from one vectorised scan, and the keyed values of a full row from contiguous keystream runs.
inline size_t distribution_row(const detail::StepKeys& keys, Buffers& buf, float* row, uint32_t n, uint32_t layers) {
  constexpr float kMax = std::numeric_limits<float>::max();
  const detail::RangeHits found = detail::scan_range(row, 0, n, -kMax, kMax, buf.index.data(), buf.index.size());
  if (found.count == 0) return 0;
  keys.values_ascending(buf.index.data(), found.count, buf.values.data());
  reweight(buf, found.count, detail::DenseList{row, n}, found.max, layers);
  return found.count;
}

// Writes ln p of the tournament distribution into the list's logits (ids with p = 0 get -inf).
template <typename List>
void write_log_probs(const Buffers& buf, size_t n, const List& list) {
  for (size_t j = 0; j < n; ++j) {
    const double p = buf.probs[j];
    list.logit(buf.index[j]) = p > 0 ? static_cast<float>(std::log(p)) : -std::numeric_limits<float>::infinity();
  }
}

// Draws from the tournament distribution by inverse CDF in list order; returns the entry index.
inline ptrdiff_t sample(const Buffers& buf, size_t n, double uniform) {
  double cum = 0;
  for (size_t j = 0; j < n; ++j) {
    cum += buf.probs[j];
    if (cum > uniform) return buf.index[j];
  }
  for (size_t j = n; j-- > 0;) {
    if (buf.probs[j] > 0) return buf.index[j];
  }
  return -1;
}

// The scheme's entry in the scheme table (telltale/scheme_table.hpp), defined in its .cpp.
extern const SchemeInfo kInfo;

}  // namespace telltale::tournament
