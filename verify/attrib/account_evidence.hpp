// The account layer's evidence, accumulated once over the scored contexts and then read for every registry account:
// cost linear in scored tokens plus (touched symbol positions x accounts), never tokens x accounts
// (spec/fingerprint.md section 5).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "attrib/account_registry.hpp"

namespace telltale::attrib {

class AccountEvidence {
 public:
  AccountEvidence();

  // One scored context: its mark from Detector::account_marks (position << 1 | bit), counted `weight` times (the
  // model-aware test's weight in grid units; 1 for the plain test). scored() and matches() are then weighted sums.
  void add(uint32_t mark, uint32_t weight = 1) {
    const uint32_t position = mark >> 1;
    const int64_t w = weight;
    e_[position] += (mark & 1u) ? -w : w;  // e[j] = (weight with bit 0) - (weight with bit 1)
    const uint32_t outer = position >> 8;
    if (!touched_[outer]) {
      touched_[outer] = true;
      touched_list_.push_back(outer);
    }
    scored_ += weight;
  }
  void add(const AccountEvidence& other);
  void clear();

  // Contexts scored (their total weight).
  uint64_t scored() const { return scored_; }

  // out[a] = the number of scored contexts whose bit equals account a's codeword bit at their position, for every
  // account of `registry` (in its order). Per touched symbol position: one Walsh-Hadamard transform of its 256
  // counts (the correlation with every possible symbol), then one table lookup per account.
  void matches(const AccountRegistry& registry, std::vector<uint64_t>& out) const;

 private:
  std::vector<int64_t> e_;  // kFingerprintPositions
  std::array<bool, kFingerprintSymbols> touched_{};
  std::vector<uint32_t> touched_list_;
  uint64_t scored_ = 0;
  mutable std::vector<int64_t> sums_;  // scratch of matches()
};

}  // namespace telltale::attrib
