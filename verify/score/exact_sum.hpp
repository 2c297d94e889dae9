// An order-independent, exact sum of non-negative scores: sharded, threaded and one-pass scoring add the same
// numbers in different orders, and the report must not change by a single bit.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace telltale::score {

// Fixed point with kFractionBits fractional bits in an unsigned 128-bit integer. Every per-token score of the
// schemes (KGW 0/1, tournament 0..32, Gumbel -ln(1 - r) in [2^-33, 23]) is a double whose last bit is at least
// 2^-85, so it converts exactly; addition of integers is associative, so the total is the same in any order.
// Capacity: 2^128 / (32 * 2^86) = 2^37 (1.4e11) scores of the largest size. A score below 2^-86 granularity would be
// truncated (rounded toward zero: conservative, and still the same in every order); none occurs.
class ExactSum {
 public:
  __extension__ typedef unsigned __int128 Raw;
  static constexpr int kFractionBits = 86;

  // Adds x, which must be finite, >= 0 and < 2^36 (anything else is treated as 0: never favourable evidence).
  void add(double x) noexcept {
    // Without a branch on x: scores are random (KGW's are 0 or 1 by a coin of bias gamma), so a branch on them
    // mispredicts on a large share of tokens. Out of range, x adds m = 0 at shift 0.
    const bool in_range = (x > 0) & (x < 0x1p36);  // false for NaN
    // x = m 2^(e - 1075) with the 53-bit significand m (IEEE-754 binary64; subnormals have e = 0 and no hidden bit).
    const auto b = std::bit_cast<uint64_t>(x);
    const int e = static_cast<int>(b >> 52);
    const uint64_t m = ((b & ((uint64_t{1} << 52) - 1)) | (e > 0 ? uint64_t{1} << 52 : 0)) & (uint64_t{0} - in_range);
    const int shift = ((e > 0 ? e : 1) - 1075 + kFractionBits) & -static_cast<int>(in_range);  // <= 69 for x < 2^36
    if (shift >= 0)
      raw_ += static_cast<Raw>(m) << shift;
    else if (shift > -64)
      raw_ += static_cast<Raw>(m >> -shift);
  }
  void add(const ExactSum& other) noexcept { raw_ += other.raw_; }

  // The sum rounded to the nearest double.
  double value() const noexcept { return std::ldexp(static_cast<double>(raw_), -kFractionBits); }

  uint64_t low() const noexcept { return static_cast<uint64_t>(raw_); }
  uint64_t high() const noexcept { return static_cast<uint64_t>(raw_ >> 64); }
  static ExactSum from_parts(uint64_t low, uint64_t high) noexcept {
    ExactSum s;
    s.raw_ = (static_cast<Raw>(high) << 64) | low;
    return s;
  }
  bool operator==(const ExactSum& other) const noexcept { return raw_ == other.raw_; }

 private:
  Raw raw_ = 0;
};

}  // namespace telltale::score
