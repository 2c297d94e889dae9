// The identity of a scored (context window, token) tuple, for de-duplication within and across documents and shards.
#pragma once

#include <cstdint>
#include <span>

namespace telltale::score {

// A 64-bit fingerprint of (window, token). It is deliberately NOT keyed: which tuples are scored must not depend on the
// key, so that under H0 the scored values stay iid. A collision (probability about N^2 / 2^65 for N distinct tuples)
// makes two tuples count once: it loses evidence, it never adds any (spec/partial-results.md).
inline uint64_t mix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline uint64_t tuple_hash(std::span<const int32_t> window, int32_t token) noexcept {
  uint64_t h = 0x74656c6c74616c65ull ^ window.size();  // "telltale"
  for (const int32_t t : window) h = mix64(h ^ static_cast<uint32_t>(t)) * 0xff51afd7ed558ccdull;
  return mix64(h ^ (uint64_t{1} << 32 | static_cast<uint32_t>(token)));
}

}  // namespace telltale::score
