// The identity of a scored (context window, token) tuple, for de-duplication within and across documents and shards.
#pragma once

#include <cstdint>
#include <span>

namespace telltale::score {

// The 128-bit product of a and b, folded to 64 bits (wyhash's "mum", Wang Yi 2019; SMHasher-clean as used there).
inline uint64_t mum(uint64_t a, uint64_t b) noexcept {
  __extension__ typedef unsigned __int128 U128;
  const U128 r = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// A 64-bit fingerprint of (window, token). It is deliberately NOT keyed: which tuples are scored must not depend on the
// key, so that under H0 the scored values stay iid. A collision (probability about N^2 / 2^65 for N distinct tuples)
// makes two tuples count once: it loses evidence, it never adds any (spec/partial-results.md).
inline uint64_t tuple_hash(std::span<const int32_t> window, int32_t token) noexcept {
  constexpr uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull, kP2 = 0x8ebc6af09c88c6e3ull;
  uint64_t h = 0x74656c6c74616c65ull ^ window.size();  // "telltale"
  size_t i = 0;
  // Two ids per 64-bit word, two words per multiply: one dependent multiply per four ids of context.
  for (; i + 4 <= window.size(); i += 4) {
    const uint64_t a = static_cast<uint32_t>(window[i]) | uint64_t{static_cast<uint32_t>(window[i + 1])} << 32;
    const uint64_t b = static_cast<uint32_t>(window[i + 2]) | uint64_t{static_cast<uint32_t>(window[i + 3])} << 32;
    h = mum(a ^ kP0, b ^ kP1 ^ h);
  }
  uint64_t a = 0;
  uint64_t b = static_cast<uint32_t>(token);
  if (i + 2 <= window.size()) {
    a = static_cast<uint32_t>(window[i]) | uint64_t{static_cast<uint32_t>(window[i + 1])} << 32;
    i += 2;
  }
  if (i < window.size()) b |= uint64_t{static_cast<uint32_t>(window[i])} << 32;
  return mum(mum(a ^ kP0, b ^ kP1 ^ h) ^ kP2, h ^ kP1);
}

}  // namespace telltale::score
