// Decoding the account layer: per-position counts, a Walsh-Hadamard transform per symbol position, and one lookup
// per (account, touched position).
#include "attrib/account_evidence.hpp"

#include <algorithm>

namespace telltale::attrib {

namespace {

// In place: w[s] = sum_y (-1)^popcount(s & y) v[y], over 256 entries.
void walsh_hadamard_256(int64_t* v) {
  for (uint32_t h = 1; h < kFingerprintInnerBits; h <<= 1) {
    for (uint32_t i = 0; i < kFingerprintInnerBits; i += 2 * h) {
      for (uint32_t j = i; j < i + h; ++j) {
        const int64_t a = v[j];
        const int64_t b = v[j + h];
        v[j] = a + b;
        v[j + h] = a - b;
      }
    }
  }
}

}  // namespace

AccountEvidence::AccountEvidence() : e_(kFingerprintPositions, 0) {}

void AccountEvidence::add(const AccountEvidence& other) {
  for (uint32_t outer : other.touched_list_) {
    for (uint32_t y = 0; y < kFingerprintInnerBits; ++y) {
      e_[outer * kFingerprintInnerBits + y] += other.e_[outer * kFingerprintInnerBits + y];
    }
    if (!touched_[outer]) {
      touched_[outer] = true;
      touched_list_.push_back(outer);
    }
  }
  scored_ += other.scored_;
}

void AccountEvidence::clear() {
  for (uint32_t outer : touched_list_) {
    std::fill_n(e_.begin() + outer * kFingerprintInnerBits, kFingerprintInnerBits, 0);
    touched_[outer] = false;
  }
  touched_list_.clear();
  scored_ = 0;
}

void AccountEvidence::matches(const AccountRegistry& registry, std::vector<uint64_t>& out) const {
  const size_t n = registry.size();
  sums_.assign(n, 0);
  std::array<int64_t, kFingerprintInnerBits> w{};
  for (uint32_t outer : touched_list_) {
    std::copy_n(e_.begin() + outer * kFingerprintInnerBits, kFingerprintInnerBits, w.begin());
    walsh_hadamard_256(w.data());
    // matches at this position for symbol s = (contexts here + w[s]) / 2: inner bit parity(s & y) is 0 exactly where
    // (-1)^popcount(s & y) = +1, which counts the bit-0 contexts positively.
    const uint8_t* symbols = registry.symbols(outer).data();
    int64_t* sums = sums_.data();
    for (size_t a = 0; a < n; ++a) sums[a] += w[symbols[a]];
  }
  out.resize(n);
  const auto total = static_cast<int64_t>(scored_);
  for (size_t a = 0; a < n; ++a) out[a] = static_cast<uint64_t>((total + sums_[a]) / 2);
}

}  // namespace telltale::attrib
