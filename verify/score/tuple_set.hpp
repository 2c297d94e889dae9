// A set of tuple fingerprints for de-duplication inside one document: open addressing, reused across documents
// so that scoring allocates only when a document is larger than any before it.
#pragma once

#include <cstdint>
#include <vector>

namespace telltale::score {

class TupleSet {
 public:
  // Empties the set and makes room for `expected` insertions at a load factor of at most 1/4: a probe that finds its
  // first slot taken costs a mispredicted branch, and at 1/2 that was a fifth of the scoring time (a 500-id document
  // needs 16 KiB, still in L1).
  void reset(size_t expected) {
    size_t cap = 16;
    while (cap < 4 * expected) cap <<= 1;
    if (slots_.size() < cap || slots_.size() > 4 * cap)
      slots_.assign(cap, 0);
    else
      std::fill(slots_.begin(), slots_.end(), 0);
    mask_ = slots_.size() - 1;
    has_zero_ = false;
  }
  // True when `hash` was not in the set (and is now). The table must have been reset for enough insertions.
  bool insert(uint64_t hash) {
    if (hash == 0) {  // 0 marks an empty slot, so it is tracked on its own
      const bool fresh = !has_zero_;
      has_zero_ = true;
      return fresh;
    }
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == hash) return false;
      if (slots_[i] == 0) {
        slots_[i] = hash;
        return true;
      }
    }
  }

 private:
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  bool has_zero_ = false;
};

}  // namespace telltale::score
