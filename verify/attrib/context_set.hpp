// The corpus-wide set of scored contexts (64-bit unkeyed hashes): open addressing that doubles at load 1/2, so that
// pooling a corpus costs one probe per context instead of a node allocation (std::unordered_set was 25x slower).
#pragma once

#include <cstdint>
#include <vector>

namespace telltale::attrib {

class ContextSet {
 public:
  // True when `hash` was not in the set (and is now).
  bool insert(uint64_t hash) {
    if (hash == 0) {  // 0 marks an empty slot, so it is tracked on its own
      const bool fresh = !has_zero_;
      has_zero_ = true;
      return fresh;
    }
    if (2 * (size_ + 1) > slots_.size()) grow();
    if (!place(slots_, hash)) return false;
    ++size_;
    return true;
  }

 private:
  static bool place(std::vector<uint64_t>& slots, uint64_t hash) {
    const size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots[i] == hash) return false;
      if (slots[i] == 0) {
        slots[i] = hash;
        return true;
      }
    }
  }
  void grow() {
    std::vector<uint64_t> bigger(slots_.empty() ? 1024 : 2 * slots_.size(), 0);
    for (uint64_t h : slots_) {
      if (h != 0) place(bigger, h);
    }
    slots_.swap(bigger);
  }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
  bool has_zero_ = false;
};

}  // namespace telltale::attrib
