// Red/green bias (KGW): the generation side (add delta to green ids) and the detection score (1 if green), together.
#pragma once

#include "hook/step.hpp"
#include "telltale/scheme.hpp"

namespace telltale::kgw {

struct Config {
  KgwLayout layout;
  float delta = 2.0f;
};

inline bool is_green(const Config& c, uint32_t value) { return value < c.layout.threshold; }

// Adds delta to every green id of row[0..n): left-hash in cipher-sized chunks of the keystream; self-hash by batches.
void bias_row(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n);

// Adds delta to the green ids of a list (candidates, or the survivors of top-k pruning).
template <typename List>
void bias_list(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, const List& list,
               uint32_t vocab_size) {
  const size_t n = list.size();
  for (size_t start = 0; start < n; start += detail::Workspace::kBatch) {
    const size_t m = n - start < detail::Workspace::kBatch ? n - start : detail::Workspace::kBatch;
    size_t k = 0;
    for (size_t i = 0; i < m; ++i) {
      const uint32_t id = list.id(start + i);
      if (id < vocab_size) {
        ws.ids[k] = id;
        ws.order[k] = static_cast<uint32_t>(start + i);
        ++k;
      }
    }
    keys.values(ws, ws.ids.data(), k, ws.values.data());
    for (size_t i = 0; i < k; ++i) {
      if (is_green(c, ws.values[i])) list.logit(ws.order[i]) += c.delta;
    }
  }
}

}  // namespace telltale::kgw
