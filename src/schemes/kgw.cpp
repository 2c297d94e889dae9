// The KGW scheme: its table entry, and its generation over a whole row and over the part of it that can survive the
// server's top-k. The per-id rule (value < threshold) is is_green() in kgw.hpp, shared with detection.
#include "schemes/kgw.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

#include "hook/hook_impl.hpp"
#include "schemes/sampling.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#define TELLTALE_KGW_X86 1  // SSE2 is part of x86-64; AVX2 is used when the CPU has it (checked once at run time)
#endif

namespace telltale::kgw {
namespace {

// The bias of the ids of one keystream chunk `ks`, `r` the row from the chunk's first id. Every kernel below gives the
// same bits as select_add per id: the add is the same IEEE single-precision add, and an id that is not green keeps its
// exact bits (-0.0 and NaN payloads included). The vector kernels do a prefix and return its length; the scalar one
// does ids [first, count), the rest.

// One id at a time; every architecture.
template <unsigned kBits>
void select_scalar(const uint8_t* ks, float* r, uint32_t first, uint32_t count, const Config& c) {
  for (uint32_t i = first; i < count; ++i) {
    const uint32_t value = detail::value_in_block<kBits>(ks + 16 * size_t{block_of(i, kBits)}, i);
    r[i] = select_add(r[i], c.delta, is_green(c, value));
  }
}

#if defined(TELLTALE_KGW_X86)
// The keystream word that holds ids [i, i + 32 / kBits) of a chunk (kBits <= 4), as a lane value: x86 is little-endian.
template <unsigned kBits>
int keystream_word(const uint8_t* ks, uint32_t i) {
  int w;
  std::memcpy(&w, ks + i / 8 * kBits, 4);
  return w;
}

// 8 ids per AVX2 vector. For 1, 2 and 4 bits/id one little-endian 32-bit keystream word is broadcast to every lane,
// and lane l of group g takes its id's field with a per-lane shift (kBits * l + 8 * kBits * g) and a mask. For 8 and
// 16 bits/id the bytes (half-words) are zero-extended to 32-bit lanes. green = threshold > field, r = blend.
__attribute__((target("avx2"))) inline void apply_avx2(float* p, __m256i thr, __m256i field, __m256 vdelta) {
  const __m256 green = _mm256_castsi256_ps(_mm256_cmpgt_epi32(thr, field));
  const __m256 x = _mm256_loadu_ps(p);
  _mm256_storeu_ps(p, _mm256_blendv_ps(x, _mm256_add_ps(x, vdelta), green));
}

template <unsigned kBits>
__attribute__((target("avx2"))) uint32_t select_avx2(const uint8_t* ks, float* r, uint32_t count, uint32_t threshold,
                                                     float delta) {
  const __m256 vdelta = _mm256_set1_ps(delta);
  const __m256i thr = _mm256_set1_epi32(static_cast<int>(threshold));
  uint32_t i = 0;
  if constexpr (kBits <= 4) {
    constexpr uint32_t kIdsPerWord = 32 / kBits;  // 32, 16 or 8: 4, 2 or 1 vectors per word
    const __m256i mask = _mm256_set1_epi32((1 << kBits) - 1);
    const __m256i lane_shift =
        _mm256_setr_epi32(0, kBits, 2 * kBits, 3 * kBits, 4 * kBits, 5 * kBits, 6 * kBits, 7 * kBits);
    for (; i + kIdsPerWord <= count; i += kIdsPerWord) {
      const __m256i vw = _mm256_set1_epi32(keystream_word<kBits>(ks, i));
#pragma GCC unroll 4
      for (uint32_t g = 0; g < kIdsPerWord / 8; ++g) {
        const __m256i shift = _mm256_add_epi32(lane_shift, _mm256_set1_epi32(static_cast<int>(8 * kBits * g)));
        apply_avx2(r + i + 8 * g, thr, _mm256_and_si256(_mm256_srlv_epi32(vw, shift), mask), vdelta);
      }
    }
  } else if constexpr (kBits == 8) {
    for (; i + 8 <= count; i += 8) {
      apply_avx2(r + i, thr, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ks + i))), vdelta);
    }
  } else if constexpr (kBits == 16) {
    for (; i + 8 <= count; i += 8) {
      apply_avx2(r + i, thr, _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ks + 2 * i))),
                 vdelta);
    }
  }
  return i;
}

// The same with SSE2 (every x86-64 CPU), 4 ids per vector. SSE2 has no per-lane shift: for 1, 2 and 4 bits/id the
// word is shifted by 4 * kBits * g for group g, lane l keeps its field in place (mask << kBits * l) and is compared
// with threshold << kBits * l. That is exact: field < threshold iff the shifted values compare so, and every shifted
// value stays below 2^16, so the signed 32-bit compare cannot overflow.
inline void apply_sse2(float* p, __m128i thr, __m128i field, __m128 vdelta) {
  const __m128 green = _mm_castsi128_ps(_mm_cmpgt_epi32(thr, field));
  const __m128 x = _mm_loadu_ps(p);
  _mm_storeu_ps(p, _mm_or_ps(_mm_and_ps(green, _mm_add_ps(x, vdelta)), _mm_andnot_ps(green, x)));
}

template <unsigned kBits>
uint32_t select_sse2(const uint8_t* ks, float* r, uint32_t count, uint32_t threshold, float delta) {
  const __m128 vdelta = _mm_set1_ps(delta);
  uint32_t i = 0;
  if constexpr (kBits <= 4) {
    constexpr uint32_t kIdsPerWord = 32 / kBits;
    constexpr int kMask = (1 << kBits) - 1;
    const int t = static_cast<int>(threshold);
    const __m128i mask = _mm_setr_epi32(kMask, kMask << kBits, kMask << (2 * kBits), kMask << (3 * kBits));
    const __m128i thr = _mm_setr_epi32(t, t << kBits, t << (2 * kBits), t << (3 * kBits));
    for (; i + kIdsPerWord <= count; i += kIdsPerWord) {
      const __m128i vw = _mm_set1_epi32(keystream_word<kBits>(ks, i));
#pragma GCC unroll 8
      for (uint32_t g = 0; g < kIdsPerWord / 4; ++g) {
        const __m128i shifted = _mm_srl_epi32(vw, _mm_cvtsi32_si128(static_cast<int>(4 * kBits * g)));
        apply_sse2(r + i + 4 * g, thr, _mm_and_si128(shifted, mask), vdelta);
      }
    }
  } else if constexpr (kBits == 8 || kBits == 16) {
    const __m128i thr = _mm_set1_epi32(static_cast<int>(threshold));
    const __m128i zero = _mm_setzero_si128();
    for (; i + 4 <= count; i += 4) {
      __m128i v;
      if constexpr (kBits == 8) {
        uint32_t w;
        std::memcpy(&w, ks + i, 4);
        v = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(static_cast<int>(w)), zero), zero);
      } else {
        v = _mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ks + 2 * i)), zero);
      }
      apply_sse2(r + i, thr, v, vdelta);
    }
  }
  return i;
}

bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

// Left-hash: one keystream per step, read sequentially in chunks.
template <unsigned kBits>
void bias_row_left(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n) {
  constexpr uint32_t kIdsPerBlock = 128 / kBits;
  constexpr uint32_t kChunkBlocks = 256;  // 4 KiB of keystream per cipher call: stays in L1
  const uint32_t total_blocks = (n + kIdsPerBlock - 1) / kIdsPerBlock;
  const uint32_t threshold = c.layout.threshold;
  const float delta = c.delta;
  uint8_t* ks = ws.blocks.data();
#if defined(TELLTALE_KGW_X86)
  const bool avx2 = have_avx2();
#endif
  for (uint32_t b0 = 0; b0 < total_blocks; b0 += kChunkBlocks) {
    const uint32_t nb = total_blocks - b0 < kChunkBlocks ? total_blocks - b0 : kChunkBlocks;
    keys.keystream->blocks(keys.seed, b0, nb, ks);
    const uint32_t id0 = b0 * kIdsPerBlock;
    const uint32_t id1 = (id0 + nb * kIdsPerBlock < n) ? id0 + nb * kIdsPerBlock : n;
    float* r = row + id0;
    const uint32_t count = id1 - id0;
    uint32_t done = 0;
#if defined(TELLTALE_KGW_X86)
    done =
        avx2 ? select_avx2<kBits>(ks, r, count, threshold, delta) : select_sse2<kBits>(ks, r, count, threshold, delta);
#endif
    select_scalar<kBits>(ks, r, done, count, c);
  }
}

// A list over the chosen ids of a dense row (the survivors of top-k pruning).
struct SubsetList {
  float* row;
  const uint32_t* ids;
  size_t n;
  size_t size() const { return n; }
  uint32_t id(size_t i) const { return ids[i]; }
  float& logit(size_t i) const { return row[ids[i]]; }
};

// The k-th largest of values[0..n) (k <= n, k <= heap capacity), with a min-heap in caller-provided storage. A group
// with no value above the heap's minimum is skipped: each of its values would have been tested and left out anyway.
float kth_largest(const float* values, size_t n, size_t k, float* heap) {
  for (size_t i = 0; i < k; ++i) heap[i] = values[i];
  std::make_heap(heap, heap + k, std::greater<float>());
  const auto offer = [heap, k](float v) {
    if (v > heap[0]) {
      std::pop_heap(heap, heap + k, std::greater<float>());
      heap[k - 1] = v;
      std::push_heap(heap, heap + k, std::greater<float>());
    }
  };
  size_t i = k;
  for (; i + detail::kScanGroup <= n; i += detail::kScanGroup) {
    const float min = heap[0];
    if (!detail::any_in_group(values + i, [min](float v) { return v > min; })) continue;
    for (size_t j = i; j < i + detail::kScanGroup; ++j) offer(values[j]);
  }
  for (; i < n; ++i) offer(values[i]);
  return heap[0];
}

}  // namespace

void bias_row(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n) {
  if (keys.self_hash) {
    bias_list(c, keys, detail::DenseList{row, n}, n);
    return;
  }
  detail::with_bits(keys.bits, [&](auto width) { bias_row_left<decltype(width)::value>(c, keys, ws, row, n); });
}

void bias_row_top_k(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n,
                    uint32_t k) {
  // Only ids with logit >= (k-th largest) - delta can be among the top k after the bias.
  const float floor = kth_largest(row, n, k, ws.heap.data()) - c.delta;
  uint32_t* ids = ws.survivors.data();  // in batches of kBatch, its capacity
  size_t m = 0;
  const auto keep = [&](uint32_t i) {
    if (row[i] >= floor) {
      ids[m++] = i;
      if (m == detail::Workspace::kBatch) {
        bias_list(c, keys, SubsetList{row, ids, m}, n);
        m = 0;
      }
    }
  };
  uint32_t i = 0;
  for (; i + detail::kScanGroup <= n; i += detail::kScanGroup) {
    if (!detail::any_in_group(row + i, [floor](float v) { return v >= floor; })) continue;
    for (uint32_t j = i; j < i + detail::kScanGroup; ++j) keep(j);
  }
  for (; i < n; ++i) keep(i);
  if (m > 0) bias_list(c, keys, SubsetList{row, ids, m}, n);
}

// ---- The scheme's entry ----

Status validate_layer(const SchemeParams& p) {
  if (!(p.kgw.gamma > 0 && p.kgw.gamma < 1)) return invalid_argument("gamma must be in (0, 1)");
  if (!(p.kgw.delta >= 0 && p.kgw.delta <= 1000)) return invalid_argument("delta must be in [0, 1000] logits");
  return Status::ok();
}

NullModel null_model(const SchemeParams& p) {
  return {NullKind::kBernoulli, kgw_layout(p.kgw.gamma).effective_gamma(), 1};
}

namespace {

void describe(const SchemeParams& p, char* buf, size_t size) {
  std::snprintf(buf, size, "scheme=kgw gamma=%.17g effective_gamma=%.17g delta=%.9g", p.kgw.gamma,
                kgw_layout(p.kgw.gamma).effective_gamma(), static_cast<double>(p.kgw.delta));
}

constexpr SchemeWords kWords = {
    "0 = red token, 1 = green token", "green",
    "When the text was generated, the secret key and the few tokens before each position split the "
    "vocabulary into a small \u201cgreen\u201d part and a \u201cred\u201d rest, and green tokens were made "
    "more likely. The test recomputes the split at every position with the key and counts green tokens. "
    "Text that never saw the key hits green only by chance (a fixed fraction, gamma), so the count follows "
    "a binomial law; the p-value is its exact upper tail."};

Status setup(detail::HookImpl& impl, const KeyRing&) {
  impl.kgw.layout = kgw_layout(impl.params.kgw.gamma);
  impl.kgw.delta = impl.params.kgw.delta;
  impl.bits = impl.kgw.layout.bits;
  return Status::ok();
}

float max_bias(const detail::HookImpl& impl) { return impl.kgw.delta; }

void bias_row_op(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys, float* row, uint32_t n,
                 int64_t, uint32_t top_k) {
  detail::Workspace& ws = detail::HookImpl::workspace(seq);
  if (top_k == 0 || top_k >= n || top_k > detail::Workspace::kMaxTopK) {
    bias_row(impl.kgw, keys, ws, row, n);
  } else {
    bias_row_top_k(impl.kgw, keys, ws, row, n, top_k);
  }
}

void bias_list_op(const detail::HookImpl& impl, SeqState&, const detail::StepKeys& keys, detail::CandidateList list) {
  bias_list(impl.kgw, keys, list, impl.params.vocab_size);
}

// The draw on a watermarked step: the bias, then plain sampling (a dense row is biased in place).
template <typename List>
ptrdiff_t choose(const detail::HookImpl& impl, SeqState&, const detail::StepKeys& keys, List list, double uniform) {
  bias_list(impl.kgw, keys, list, impl.params.vocab_size);
  return detail::sample_list(list, impl.params.vocab_size, uniform);
}

void score_op(const detail::HookImpl& impl, const uint32_t* values, const int32_t* tokens, size_t n, double* out) {
  detail::score_tokens(impl.params.vocab_size, values, tokens, n, out,
                       [c = impl.kgw](uint32_t value) { return static_cast<double>(is_green(c, value)); });
}

const detail::SchemeOps kOps = {SchemeKind::kKgw,
                                setup,
                                false,
                                max_bias,
                                bias_row_op,
                                bias_list_op,
                                choose<detail::DenseList>,
                                choose<detail::CandidateList>,
                                score_op};

}  // namespace

extern const SchemeInfo kInfo = {SchemeKind::kKgw,
                                 "kgw",
                                 "red/green bias (Kirchenbauer et al. 2023)",
                                 "tt-kgw01",
                                 false,
                                 validate_layer,
                                 describe,
                                 null_model,
                                 detail::fixed_words<kWords>,
                                 &kOps};

}  // namespace telltale::kgw
