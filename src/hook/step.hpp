// Internal: the per-step view every scheme works through (keyed values of any ids) and the scratch space it uses.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "prf/keyed_values.hpp"
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
  StepSeed seed;  // left-hash seed (unused for self-hash)
  Keystream* keystream = nullptr;
  unsigned bits = 2;

  // Calls use(i, value) for i in [0, n), value = the keyed value of id id_of(i) at this step. One keystream block per
  // id, kChunk ids per cipher call, through a buffer on the stack: it stays in L1, where the per-sequence Workspace is
  // cold when many sequences take turns.
  template <typename IdOf, typename Use>
  void for_each_value(size_t n, IdOf id_of, Use use) const {
    constexpr size_t kChunk = 128;
    alignas(16) uint8_t blocks[16 * kChunk];
    with_bits(bits, [&](auto width) {
      constexpr unsigned kBits = decltype(width)::value;
      if (self_hash) {
        const auto counters_of = [&](size_t i) {
          return CounterBlocks(seeder->self_hash(window, static_cast<int32_t>(id_of(i))));
        };
        read_values<kBits>(*keystream, n, counters_of, id_of, use, blocks, kChunk);
      } else {
        const CounterBlocks counters(seed);
        read_values<kBits>(
            *keystream, n, [&counters](size_t) { return counters; }, id_of, use, blocks, kChunk);
      }
    });
  }

  // out[i] = value of ids[i] at this step.
  void values(const uint32_t* ids, size_t n, uint32_t* out) const {
    for_each_value(
        n, [ids](size_t i) { return ids[i]; }, [out](size_t i, uint32_t value) { out[i] = value; });
  }

  // The same for ids in strictly increasing order. Where the ids are dense (left-hash, fewer keystream blocks span them
  // than there are ids), the blocks are read in contiguous runs, 4 KiB per cipher call, instead of one block per id.
  void values_ascending(const uint32_t* ids, size_t n, uint32_t* out) const {
    if (n == 0) return;
    if (self_hash || uint64_t{block_of(ids[n - 1], bits)} - block_of(ids[0], bits) + 1 >= n) {
      values(ids, n, out);
      return;
    }
    constexpr uint32_t kRun = 256;
    alignas(16) uint8_t blocks[16 * kRun];
    with_bits(bits, [&](auto width) {
      constexpr unsigned kBits = decltype(width)::value;
      for (size_t i = 0; i < n;) {
        const uint32_t b0 = block_of(ids[i], kBits);
        const uint32_t last = block_of(ids[n - 1], kBits);
        const uint32_t count = last - b0 < kRun ? last - b0 + 1 : kRun;
        keystream->blocks(seed, b0, count, blocks);
        for (; i < n && block_of(ids[i], kBits) - b0 < count; ++i) {
          out[i] = value_in_block<kBits>(blocks + 16 * size_t{block_of(ids[i], kBits) - b0}, ids[i]);
        }
      }
    });
  }
};

// A list of (id, logit) entries: a dense row (ids 0..n-1) or a candidates array.
// The scans of a dense row look for a few hundred entries among ~10^5. They test kScanGroup entries at a time with a
// count the compiler vectorises (no branch per entry) and look closer only at a group that has one.
constexpr size_t kScanGroup = 16;

template <typename Pred>
bool any_in_group(const float* p, Pred pred) {
  int count = 0;
  for (size_t j = 0; j < kScanGroup; ++j) count += pred(p[j]);
  return count != 0;
}

struct DenseList {
  float* row;
  size_t n;
  size_t size() const { return n; }
  uint32_t id(size_t i) const { return static_cast<uint32_t>(i); }
  float& logit(size_t i) const { return row[i]; }
};

}  // namespace telltale::detail
