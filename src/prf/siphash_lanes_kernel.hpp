// Internal: the multi-lane SipHash-2-4-128 kernel, written once over a vector type `Ops` and included by each SIMD
// translation unit with its own Ops. Everything here has internal linkage and uses no standard-library code, so
// nothing compiled for a wider instruction set can leak into code that runs on CPUs without it.
//
// The message of lane l is tag || le32(run[j + l]) || ... || le32(run[j + l + k - 1]) (spec/prf.md section 2.2). On a
// little-endian CPU its bytes after the tag are the ids' own bytes, so message word b (bytes 8b..8b+7) of lane l is an
// unaligned load at run + j + l: the lanes' words lie 4 bytes apart, which Ops::load_words turns into one vector.
// SipHash itself: Aumasson and Bernstein, "SipHash: a fast short-input PRF" (2012), with the 128-bit output of the
// reference siphash.c (v1 ^= 0xee at setup, v2 ^= 0xee before the first half, v1 ^= 0xdd before the second).
#pragma once

#include <cstddef>
#include <cstdint>

namespace telltale::detail {
namespace {

constexpr size_t kSeedBytes = 12;  // sizeof(StepSeed)

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8);
  return v;
}

template <typename Ops, size_t G>
struct SipState {
  typename Ops::V v0[G], v1[G], v2[G], v3[G];

  SipState(uint64_t k0, uint64_t k1) {
    for (size_t g = 0; g < G; ++g) {
      v0[g] = Ops::splat(0x736f6d6570736575ull ^ k0);
      v1[g] = Ops::splat(0x646f72616e646f83ull ^ k1);  // 0x...6d ^ 0xee: the 128-bit variant
      v2[g] = Ops::splat(0x6c7967656e657261ull ^ k0);
      v3[g] = Ops::splat(0x7465646279746573ull ^ k1);
    }
  }

  [[gnu::always_inline]] void round() {
    for (size_t g = 0; g < G; ++g) {
      v0[g] = Ops::add(v0[g], v1[g]);
      v1[g] = Ops::template rotl<13>(v1[g]);
      v1[g] = Ops::xor_(v1[g], v0[g]);
      v0[g] = Ops::template rotl<32>(v0[g]);
      v2[g] = Ops::add(v2[g], v3[g]);
      v3[g] = Ops::template rotl<16>(v3[g]);
      v3[g] = Ops::xor_(v3[g], v2[g]);
      v0[g] = Ops::add(v0[g], v3[g]);
      v3[g] = Ops::template rotl<21>(v3[g]);
      v3[g] = Ops::xor_(v3[g], v0[g]);
      v2[g] = Ops::add(v2[g], v1[g]);
      v1[g] = Ops::template rotl<17>(v1[g]);
      v1[g] = Ops::xor_(v1[g], v2[g]);
      v2[g] = Ops::template rotl<32>(v2[g]);
    }
  }

  [[gnu::always_inline]] void compress(const typename Ops::V* m) {
    for (size_t g = 0; g < G; ++g) v3[g] = Ops::xor_(v3[g], m[g]);
    round();
    round();
    for (size_t g = 0; g < G; ++g) v0[g] = Ops::xor_(v0[g], m[g]);
  }

  // v0 ^ v1 ^ v2 ^ v3 after 4 rounds, with `c` xored into `v` first.
  [[gnu::always_inline]] void finish_half(typename Ops::V* v, uint64_t c, typename Ops::V* out) {
    for (size_t g = 0; g < G; ++g) v[g] = Ops::xor_(v[g], Ops::splat(c));
    for (int i = 0; i < 4; ++i) round();
    for (size_t g = 0; g < G; ++g) out[g] = Ops::xor_(Ops::xor_(v0[g], v1[g]), Ops::xor_(v2[g], v3[g]));
  }
};

// Hashes the G * Ops::kLanes consecutive messages whose windows start at run[0], run[1], ...; writes the first `n` of
// them. Reads run[0, G * kLanes + K - 1).
template <typename Ops, size_t G, size_t K>
void hash_group(uint64_t k0, uint64_t k1, uint8_t tag, const int32_t* run, size_t n, uint8_t* out) {
  using V = typename Ops::V;
  constexpr size_t kLen = 1 + 4 * K;  // message bytes
  constexpr size_t kFull = kLen / 8;  // whole 8-byte words
  constexpr size_t kTail = kLen % 8;  // bytes in the last word: 1 (K even) or 5 (K odd)
  static_assert(kTail == 1 || kTail == 5);
  const auto* bytes = reinterpret_cast<const uint8_t*>(run);
  constexpr size_t kStride = 4 * Ops::kLanes;  // bytes from one vector's first window to the next one's
  SipState<Ops, G> s(k0, k1);
  V m[G];
  for (size_t b = 0; b < kFull; ++b) {
    for (size_t g = 0; g < G; ++g) {
      if (b == 0) {  // tag || the first 7 bytes of the ids (K >= 2 here)
        m[g] = Ops::or_(Ops::template shl<8>(Ops::load_words(bytes + kStride * g)), Ops::splat(tag));
      } else {  // message bytes 8b..8b+7 are id bytes 8b-1..8b+6
        m[g] = Ops::load_words(bytes + kStride * g + 8 * b - 1);
      }
    }
    s.compress(m);
  }
  for (size_t g = 0; g < G; ++g) {
    const uint8_t* p = bytes + kStride * g;
    V w;
    if constexpr (kFull == 0) {  // K = 1: tag || le32(id)
      w = Ops::or_(Ops::template shl<8>(Ops::load_halves(p)), Ops::splat(tag));
    } else if constexpr (kTail == 1) {  // the top byte of the last id
      w = Ops::template shr<24>(Ops::load_halves(p + 4 * K - 4));
    } else {  // the top byte of the last id but one, then the last id
      w = Ops::template shr<24>(Ops::load_words(p + 4 * K - 8));
    }
    m[g] = Ops::or_(w, Ops::splat(uint64_t{kLen} << 56));
  }
  s.compress(m);
  V lo[G], hi[G];
  s.finish_half(s.v2, 0xee, lo);
  s.finish_half(s.v1, 0xdd, hi);
  alignas(64) uint64_t lo_lanes[G * Ops::kLanes], hi_lanes[G * Ops::kLanes];
  for (size_t g = 0; g < G; ++g) {
    Ops::store(lo_lanes + g * Ops::kLanes, lo[g]);
    Ops::store(hi_lanes + g * Ops::kLanes, hi[g]);
  }
  for (size_t i = 0; i < n; ++i) {  // the nonce: 8 bytes of the first half, 4 of the second (little-endian)
    __builtin_memcpy(out + kSeedBytes * i, &lo_lanes[i], 8);
    __builtin_memcpy(out + kSeedBytes * i + 8, &hi_lanes[i], 4);
  }
}

template <typename Ops, size_t G, size_t K>
void hash_runs(const uint8_t* key, uint8_t tag, const int32_t* run, size_t count, uint8_t* out) {
  constexpr size_t kGroup = G * Ops::kLanes;
  const uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
  size_t j = 0;
  for (; j + kGroup <= count; j += kGroup) hash_group<Ops, G, K>(k0, k1, tag, run + j, kGroup, out + kSeedBytes * j);
  if (j < count) {
    // The last windows, copied so that the full-width loads stay inside the caller's ids; the extra lanes hash zeros
    // and are not written.
    int32_t padded[kGroup + K - 1] = {};
    __builtin_memcpy(padded, run + j, 4 * (count - j + K - 1));
    hash_group<Ops, G, K>(k0, k1, tag, padded, count - j, out + kSeedBytes * j);
  }
}

template <typename Ops, size_t G>
void hash_runs_any_k(const uint8_t* key, uint8_t tag, const int32_t* run, size_t k, size_t count, uint8_t* out) {
  switch (k) {
    case 1: return hash_runs<Ops, G, 1>(key, tag, run, count, out);
    case 2: return hash_runs<Ops, G, 2>(key, tag, run, count, out);
    case 3: return hash_runs<Ops, G, 3>(key, tag, run, count, out);
    case 4: return hash_runs<Ops, G, 4>(key, tag, run, count, out);
    case 5: return hash_runs<Ops, G, 5>(key, tag, run, count, out);
    case 6: return hash_runs<Ops, G, 6>(key, tag, run, count, out);
    case 7: return hash_runs<Ops, G, 7>(key, tag, run, count, out);
    case 8: return hash_runs<Ops, G, 8>(key, tag, run, count, out);
    case 9: return hash_runs<Ops, G, 9>(key, tag, run, count, out);
    case 10: return hash_runs<Ops, G, 10>(key, tag, run, count, out);
    case 11: return hash_runs<Ops, G, 11>(key, tag, run, count, out);
    case 12: return hash_runs<Ops, G, 12>(key, tag, run, count, out);
    case 13: return hash_runs<Ops, G, 13>(key, tag, run, count, out);
    case 14: return hash_runs<Ops, G, 14>(key, tag, run, count, out);
    case 15: return hash_runs<Ops, G, 15>(key, tag, run, count, out);
    default: return hash_runs<Ops, G, 16>(key, tag, run, count, out);
  }
}

}  // namespace
}  // namespace telltale::detail
