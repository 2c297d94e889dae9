// Red/green bias (KGW): the generation side (add delta to green ids) and the detection score (1 if green), together.
#pragma once

#include <bit>

#include "hook/step.hpp"
#include "telltale/scheme.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::kgw {

struct Config {
  KgwLayout layout;
  float delta = 2.0f;
};

inline bool is_green(const Config& c, uint32_t value) { return value < c.layout.threshold; }

// green ? x + delta : x, bit for bit, without a branch: the keystream bits are random, so a branch mispredicts on a
// large share of ids. A select, not an add of 0: adding +0.0 would turn -0.0 into +0.0, and every path (full row,
// pruned, candidates) must give the same bits.
inline float select_add(float x, float delta, bool green) {
  const uint32_t m = 0u - static_cast<uint32_t>(green);
  return std::bit_cast<float>((std::bit_cast<uint32_t>(x + delta) & m) | (std::bit_cast<uint32_t>(x) & ~m));
}

// Adds delta to every green id of row[0..n): left-hash in cipher-sized chunks of the keystream; self-hash by batches.
void bias_row(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n);

// The same after the server's top-k: only the ids that can still be among the top k after the bias (logit >=
// k-th largest - delta) are touched, so that after the server keeps its top k the row is bit-identical to bias_row.
// 0 < k < n, k <= Workspace::kMaxTopK.
void bias_row_top_k(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n,
                    uint32_t k);

// Adds delta to the green ids of a list (candidates, or the survivors of top-k pruning). The list is taken by value so
// that its pointers stay in registers across the stores.
template <typename List>
void bias_list(const Config& c, const detail::StepKeys& keys, List list, uint32_t vocab_size) {
  const float delta = c.delta;  // a local: the float stores below could alias c.delta
  keys.for_each_value(
      list.size(), [list](size_t i) { return list.id(i); },
      [&](size_t i, uint32_t value) {
        const bool in_vocab = list.id(i) < vocab_size;  // an id outside the vocabulary is left as it is
        float& x = list.logit(i);
        x = select_add(x, delta, in_vocab & is_green(c, value));  // & rather than &&: no branch
      });
}

// The zero-bit layer's checks and null law, which the fingerprint scheme shares.
Status validate_layer(const SchemeParams& params);
NullModel null_model(const SchemeParams& params);

// The scheme's entry in the scheme table (telltale/scheme_table.hpp), defined in its .cpp.
extern const SchemeInfo kInfo;

}  // namespace telltale::kgw
