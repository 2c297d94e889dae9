// The AVX-512 SipHash lanes: 8 messages per 512-bit vector with native 64-bit rotates, two vectors in flight. Built
// with -mavx512f and called only after the CPU check in siphash_lanes.cpp; it includes no standard header.
#include <immintrin.h>

#include "prf/siphash_lanes_kernel.hpp"

// GCC 12's AVX-512 shift and rotate intrinsics pass _mm512_undefined_epi32() as their unused merge source, which it
// then reports as uninitialised where they are inlined (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace telltale::detail {
namespace {

struct Avx512 {
  using V = __m512i;
  static constexpr size_t kLanes = 8;
  static V splat(uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
  static V add(V a, V b) { return _mm512_add_epi64(a, b); }
  static V xor_(V a, V b) { return _mm512_xor_si512(a, b); }
  static V or_(V a, V b) { return _mm512_or_si512(a, b); }
  template <int kN>
  static V shl(V a) {
    return _mm512_slli_epi64(a, kN);
  }
  template <int kN>
  static V shr(V a) {
    return _mm512_srli_epi64(a, kN);
  }
  template <int kN>
  static V rotl(V a) {
    return _mm512_rol_epi64(a, kN);
  }
  // Lane l = the 8 bytes at p + 4l: the even lanes from one 32-byte load, the odd ones from the load 4 bytes on.
  static V load_words(const uint8_t* p) {
    const V even = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const V odd = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4)));
    return _mm512_permutex2var_epi64(even, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), odd);
  }
  // Lane l = the 4 bytes at p + 4l, zero-extended.
  static V load_halves(const uint8_t* p) {
    return _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static void store(uint64_t* out, V v) { _mm512_store_si512(out, v); }
};

}  // namespace

void siphash_runs_avx512(const uint8_t* key, uint8_t tag, const int32_t* run, size_t k, size_t count, uint8_t* out) {
  hash_runs_any_k<Avx512, 2>(key, tag, run, k, count, out);
}

}  // namespace telltale::detail
