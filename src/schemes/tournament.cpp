// The tournament's layer pass, the inner loop of generation on a full row (30 layers x V entries). Every version adds
// the same numbers in the same order and rounds 1 + g - mass the same way, so the probabilities keep their bits.
#include "schemes/tournament.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#define TELLTALE_TOURNAMENT_X86 1
#endif

namespace telltale::tournament {
namespace {

// From entry `j` on, one entry at a time; every architecture.
double pass_scalar(double* probs, const uint32_t* values, size_t j, size_t n, uint32_t layer, const double* factor,
                   bool last, double next) {
  if (last) {
    for (; j < n; ++j) probs[j] *= factor[g(values[j], layer)];
    return 0.0;
  }
  for (; j < n; ++j) {
    const double p = probs[j] * factor[g(values[j], layer)];
    probs[j] = p;
    next += if_g(g(values[j], layer + 1), p);
  }
  return next;
}

#if defined(TELLTALE_TOURNAMENT_X86)
bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// All ones in the 64-bit lanes whose entry has g_layer = 1.
__attribute__((target("avx2"), always_inline)) inline __m256d g_mask(__m128i v, __m128i shift) {
  const __m128i bit = _mm_and_si128(_mm_srl_epi32(v, shift), _mm_set1_epi32(1));
  return _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm_sub_epi32(_mm_setzero_si128(), bit)));
}

// 4 entries per step: the update is vectorised; the next layer's mass is still added entry by entry in order (the
// four lanes one after the other with scalar adds), so the dependent chain of additions is the only serial part.
__attribute__((target("avx2"))) double pass_avx2(double* probs, const uint32_t* values, size_t n, uint32_t layer,
                                                 const double* factor, bool last) {
  const __m256d f0 = _mm256_set1_pd(factor[0]);
  const __m256d f1 = _mm256_set1_pd(factor[1]);
  const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(layer));
  const __m128i shift_next = _mm_cvtsi32_si128(static_cast<int>(layer + 1));
  __m128d next = _mm_setzero_pd();
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(values + j));
    const __m256d p = _mm256_mul_pd(_mm256_loadu_pd(probs + j), _mm256_blendv_pd(f0, f1, g_mask(v, shift)));
    _mm256_storeu_pd(probs + j, p);
    if (last) continue;
    const __m256d add = _mm256_and_pd(p, g_mask(v, shift_next));  // p or +0.0, as if_g
    const __m128d lo = _mm256_castpd256_pd128(add);
    const __m128d hi = _mm256_extractf128_pd(add, 1);
    next = _mm_add_sd(next, lo);
    next = _mm_add_sd(next, _mm_unpackhi_pd(lo, lo));
    next = _mm_add_sd(next, hi);
    next = _mm_add_sd(next, _mm_unpackhi_pd(hi, hi));
  }
  return pass_scalar(probs, values, j, n, layer, factor, last, _mm_cvtsd_f64(next));
}
#endif

}  // namespace

double layer_pass(double* probs, const uint32_t* values, size_t n, uint32_t layer, double mass, bool last) {
  // 1 + g - mass for g = 0 and g = 1: (1.0 + 0.0) - mass and (1.0 + 1.0) - mass, as the per-entry form rounds it.
  const double factor[2] = {1.0 - mass, 2.0 - mass};
#if defined(TELLTALE_TOURNAMENT_X86)
  if (have_avx2()) return pass_avx2(probs, values, n, layer, factor, last);
#endif
  return pass_scalar(probs, values, 0, n, layer, factor, last, 0.0);
}

}  // namespace telltale::tournament
