// Range scans of a dense row: SSE2 (every x86-64 CPU) and AVX2 (when the CPU has it, checked once at run time), a
// scalar loop elsewhere and for the tails. Every version returns exactly what the scalar loop does.
#include "hook/row_scan.hpp"

#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#define TELLTALE_SCAN_X86 1
#endif

namespace telltale::detail {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Hands over the hits of one group (bit j of mask: row[base + j]) in increasing order; false once cap is reached,
// with h.next at the first hit not written.
[[gnu::always_inline]] inline bool take(uint32_t mask, size_t base, const float* row, uint32_t* out, size_t cap,
                                        RangeHits& h) {
  while (mask != 0) {
    const size_t i = base + static_cast<size_t>(__builtin_ctz(mask));
    if (h.count == cap) {
      h.next = i;
      return false;
    }
    out[h.count++] = static_cast<uint32_t>(i);
    if (row[i] > h.max) h.max = row[i];
    mask &= mask - 1;
  }
  return true;
}

// The part of a scan no vector loop took: one entry at a time.
RangeHits scan_tail(const float* row, size_t i, size_t end, float lo, float hi, uint32_t* out, size_t cap,
                    RangeHits h) {
  for (; i < end; ++i) {
    if (lo <= row[i] && row[i] <= hi && !take(1u, i, row, out, cap, h)) return h;
  }
  h.next = end;
  return h;
}

float max_tail(const float* row, size_t i, size_t n, float lo, float hi, float m) {
  for (; i < n; ++i) {
    if (lo <= row[i] && row[i] <= hi && row[i] > m) m = row[i];
  }
  return m;
}

#if defined(TELLTALE_SCAN_X86)
bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// All ones in the lanes of p[0..8) with lo <= p[i] <= hi (ordered compares: false on a NaN).
__attribute__((target("avx2"), always_inline)) inline __m256 hit8(const float* p, __m256 vlo, __m256 vhi) {
  const __m256 x = _mm256_loadu_ps(p);
  return _mm256_and_ps(_mm256_cmp_ps(x, vlo, _CMP_GE_OQ), _mm256_cmp_ps(x, vhi, _CMP_LE_OQ));
}

// 32 entries per step: four 8-wide compares, one branch when none is a hit (the common case on a top-k row).
__attribute__((target("avx2"))) RangeHits scan_avx2(const float* row, size_t i, size_t end, float lo, float hi,
                                                    uint32_t* out, size_t cap, RangeHits h) {
  const __m256 vlo = _mm256_set1_ps(lo);
  const __m256 vhi = _mm256_set1_ps(hi);
  const __m256 ones = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  for (; i + 32 <= end; i += 32) {
    const __m256 h0 = hit8(row + i, vlo, vhi), h1 = hit8(row + i + 8, vlo, vhi);
    const __m256 h2 = hit8(row + i + 16, vlo, vhi), h3 = hit8(row + i + 24, vlo, vhi);
    if (_mm256_testz_ps(_mm256_or_ps(_mm256_or_ps(h0, h1), _mm256_or_ps(h2, h3)), ones)) continue;
    const uint32_t mask =
        static_cast<uint32_t>(_mm256_movemask_ps(h0)) | static_cast<uint32_t>(_mm256_movemask_ps(h1)) << 8 |
        static_cast<uint32_t>(_mm256_movemask_ps(h2)) << 16 | static_cast<uint32_t>(_mm256_movemask_ps(h3)) << 24;
    if (!take(mask, i, row, out, cap, h)) return h;
  }
  return scan_tail(row, i, end, lo, hi, out, cap, h);
}

__attribute__((target("avx2"))) float max_avx2(const float* row, size_t n, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo);
  const __m256 vhi = _mm256_set1_ps(hi);
  const __m256 none = _mm256_set1_ps(kNegInf);
  // Entries outside [lo, hi] (and NaN) become -inf before the max, so max_ps never sees a NaN.
  __m256 m0 = none, m1 = none, m2 = none, m3 = none;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    m0 = _mm256_max_ps(m0, _mm256_blendv_ps(none, _mm256_loadu_ps(row + i), hit8(row + i, vlo, vhi)));
    m1 = _mm256_max_ps(m1, _mm256_blendv_ps(none, _mm256_loadu_ps(row + i + 8), hit8(row + i + 8, vlo, vhi)));
    m2 = _mm256_max_ps(m2, _mm256_blendv_ps(none, _mm256_loadu_ps(row + i + 16), hit8(row + i + 16, vlo, vhi)));
    m3 = _mm256_max_ps(m3, _mm256_blendv_ps(none, _mm256_loadu_ps(row + i + 24), hit8(row + i + 24, vlo, vhi)));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
  float m = kNegInf;
  for (float v : lanes) m = v > m ? v : m;
  return max_tail(row, i, n, lo, hi, m);
}

// The same, 4 entries per compare. cmpge/cmple are false on a NaN.
RangeHits scan_sse2(const float* row, size_t i, size_t end, float lo, float hi, uint32_t* out, size_t cap,
                    RangeHits h) {
  const __m128 vlo = _mm_set1_ps(lo);
  const __m128 vhi = _mm_set1_ps(hi);
  const auto hit = [&](const float* p) {
    const __m128 x = _mm_loadu_ps(p);
    return _mm_and_ps(_mm_cmpge_ps(x, vlo), _mm_cmple_ps(x, vhi));
  };
  for (; i + 32 <= end; i += 32) {
    __m128 any = _mm_setzero_ps();
    for (size_t g = 0; g < 32; g += 4) any = _mm_or_ps(any, hit(row + i + g));
    if (_mm_movemask_ps(any) == 0) continue;
    uint32_t mask = 0;
    for (size_t g = 0; g < 32; g += 4) mask |= static_cast<uint32_t>(_mm_movemask_ps(hit(row + i + g))) << g;
    if (!take(mask, i, row, out, cap, h)) return h;
  }
  return scan_tail(row, i, end, lo, hi, out, cap, h);
}

float max_sse2(const float* row, size_t n, float lo, float hi) {
  const __m128 vlo = _mm_set1_ps(lo);
  const __m128 vhi = _mm_set1_ps(hi);
  const __m128 none = _mm_set1_ps(kNegInf);
  const auto kept = [&](const float* p) {
    const __m128 x = _mm_loadu_ps(p);
    const __m128 in = _mm_and_ps(_mm_cmpge_ps(x, vlo), _mm_cmple_ps(x, vhi));
    return _mm_or_ps(_mm_and_ps(in, x), _mm_andnot_ps(in, none));
  };
  __m128 m0 = none, m1 = none;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    m0 = _mm_max_ps(m0, kept(row + i));
    m1 = _mm_max_ps(m1, kept(row + i + 4));
  }
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, _mm_max_ps(m0, m1));
  float m = kNegInf;
  for (float v : lanes) m = v > m ? v : m;
  return max_tail(row, i, n, lo, hi, m);
}
#endif

}  // namespace

RangeHits scan_range(const float* row, size_t begin, size_t end, float lo, float hi, uint32_t* out, size_t cap) {
  const RangeHits h{0, end, kNegInf};
#if defined(TELLTALE_SCAN_X86)
  if (have_avx2()) return scan_avx2(row, begin, end, lo, hi, out, cap, h);
  return scan_sse2(row, begin, end, lo, hi, out, cap, h);
#else
  return scan_tail(row, begin, end, lo, hi, out, cap, h);
#endif
}

float max_in_range(const float* row, size_t n, float lo, float hi) {
#if defined(TELLTALE_SCAN_X86)
  return have_avx2() ? max_avx2(row, n, lo, hi) : max_sse2(row, n, lo, hi);
#else
  return max_tail(row, 0, n, lo, hi, kNegInf);
#endif
}

}  // namespace telltale::detail
