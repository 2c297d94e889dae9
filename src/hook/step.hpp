// Internal: the per-step view every scheme works through (keyed values of any ids) and the scratch space it uses.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "telltale/prf.hpp"

namespace telltale::detail {

// Fixed-size scratch owned by a sequence (or detector): the hot path never allocates.
struct Workspace {
  static constexpr size_t kBatch = 1024;    // ids per cipher call
  static constexpr size_t kMaxTopK = 1024;  // largest top_k the dense pruned bias handles (beyond: full pass)
  std::vector<uint8_t> blocks = std::vector<uint8_t>(kBatch * 16);
  std::vector<uint32_t> ids = std::vector<uint32_t>(kBatch);
  std::vector<uint32_t> values = std::vector<uint32_t>(kBatch);
  std::vector<StepSeed> seeds = std::vector<StepSeed>(kBatch);
  std::vector<double> weights = std::vector<double>(kBatch);
  std::vector<uint32_t> order = std::vector<uint32_t>(kBatch);
  std::vector<uint32_t> survivors = std::vector<uint32_t>(kBatch);  // ids kept by top-k pruning
  std::vector<float> heap = std::vector<float>(kMaxTopK);
};

// The keyed values of one decoding step. Left-hash: one seed for the step. Self-hash: a seed per candidate id,
// from the last h-1 tokens and the candidate.
struct StepKeys {
  const Seeder* seeder = nullptr;
  std::span<const int32_t> window;  // h tokens (left-hash) or h-1 tokens (self-hash), oldest first
  bool self_hash = false;
  StepSeed seed;                    // left-hash seed (unused for self-hash)
  Keystream* keystream = nullptr;
  unsigned bits = 2;

  // out[i] = value of ids[i] at this step; n <= Workspace::kBatch.
  void values(Workspace& ws, const uint32_t* ids, size_t n, uint32_t* out) const {
    if (self_hash) {
      for (size_t i = 0; i < n; ++i) ws.seeds[i] = seeder->self_hash(window, static_cast<int32_t>(ids[i]));
      keystream->gather({ws.seeds.data(), n}, {ids, n}, bits, out, ws.blocks.data());
    } else {
      keystream->gather({&seed, 1}, {ids, n}, bits, out, ws.blocks.data());
    }
  }
};

// A list of (id, logit) entries: a dense row (ids 0..n-1) or a candidates array.
struct DenseList {
  float* row;
  size_t n;
  size_t size() const { return n; }
  uint32_t id(size_t i) const { return static_cast<uint32_t>(i); }
  float& logit(size_t i) const { return row[i]; }
};

}  // namespace telltale::detail
