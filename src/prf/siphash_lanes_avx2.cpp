// The AVX2 SipHash lanes: 4 messages per 256-bit vector, two vectors in flight (each round is a chain of dependent
// operations, so one vector alone would leave most of the core idle). Built with -mavx2 and called only after the CPU
// check in siphash_lanes.cpp; it includes no standard header (siphash_lanes.hpp, which declares it, would).
#include <immintrin.h>

#include "prf/siphash_lanes_kernel.hpp"

namespace telltale::detail {
namespace {

struct Avx2 {
  using V = __m256i;
  static constexpr size_t kLanes = 4;
  static V splat(uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static V add(V a, V b) { return _mm256_add_epi64(a, b); }
  static V xor_(V a, V b) { return _mm256_xor_si256(a, b); }
  static V or_(V a, V b) { return _mm256_or_si256(a, b); }
  template <int kN>
  static V shl(V a) {
    return _mm256_slli_epi64(a, kN);
  }
  template <int kN>
  static V shr(V a) {
    return _mm256_srli_epi64(a, kN);
  }
  template <int kN>
  static V rotl(V a) {
    if constexpr (kN == 32) {
      return _mm256_shuffle_epi32(a, _MM_SHUFFLE(2, 3, 0, 1));
    } else if constexpr (kN == 16) {
      const V bytes = _mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13,  //
                                       6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13);
      return _mm256_shuffle_epi8(a, bytes);
    } else {
      return _mm256_or_si256(_mm256_slli_epi64(a, kN), _mm256_srli_epi64(a, 64 - kN));
    }
  }
  // Lane l = the 8 bytes at p + 4l: lanes 0 and 2 from one 16-byte load, lanes 1 and 3 from the one 4 bytes on.
  static V load_words(const uint8_t* p) {
    const __m128i even = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i odd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 4));
    return _mm256_set_m128i(_mm_unpackhi_epi64(even, odd), _mm_unpacklo_epi64(even, odd));
  }
  // Lane l = the 4 bytes at p + 4l, zero-extended.
  static V load_halves(const uint8_t* p) {
    return _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static void store(uint64_t* out, V v) { _mm256_store_si256(reinterpret_cast<V*>(out), v); }
};

}  // namespace

void siphash_runs_avx2(const uint8_t* key, uint8_t tag, const int32_t* run, size_t k, size_t count, uint8_t* out) {
  hash_runs_any_k<Avx2, 2>(key, tag, run, k, count, out);
}

}  // namespace telltale::detail
