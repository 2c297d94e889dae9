// The tournament scheme: its table entry, and its layer pass, the inner loop of generation on a full row (30 layers x V
// entries). Every version of the pass adds the same numbers in the same order and rounds 1 + g - mass the same way,
// so the probabilities keep their bits.
#include "schemes/tournament.hpp"

#include <algorithm>
#include <cstdio>

#include "hook/hook_impl.hpp"

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

// ---- The scheme's entry ----

namespace telltale::tournament {
namespace {

Status validate(const SchemeParams& p) {
  if (p.tournament.layers < 1 || p.tournament.layers > 32)
    return invalid_argument("tournament layers must be in [1, 32]");
  return Status::ok();
}

void describe(const SchemeParams& p, char* buf, size_t size) {
  const bool mean = p.tournament.score == TournamentScore::kMean;
  std::snprintf(buf, size, "scheme=tournament layers=%u%s%s", p.tournament.layers,
                mean ? "" : " score=", mean ? "" : tournament_score_name(p.tournament.score));
}

NullModel null_model(const SchemeParams& p) {
  switch (p.tournament.score) {
    case TournamentScore::kMean: return {NullKind::kBinomial, 0.5, p.tournament.layers};
    case TournamentScore::kWeightedMean: return {NullKind::kWeightedBits, 0.5, p.tournament.layers};
  }
  return {};  // unreachable for parameters that validate() accepts
}

constexpr SchemeWords kMeanWords = {
    "g-values equal to 1 per token", "g=1",
    "When the text was generated, each token won a tournament of several layers whose matches the "
    "secret key decided (g-values). The test recomputes the g-values of every token and counts the "
    "ones. Text that never saw the key gives fair coin flips, so the count is binomial; the p-value is "
    "its exact upper tail."};
constexpr SchemeWords kWeightedWords = {
    "weighted sum of the g-values per token (weights 10..1)", "w. g=1",
    "When the text was generated, each token won a tournament of several layers whose matches the "
    "secret key decided (g-values). The test recomputes the g-values of every token and adds them up "
    "with fixed integer weights, from 10 for the first layer down to 1 for the last (SynthID's weighted "
    "mean), because the early layers carry more of the signal. Text that never saw the key gives fair "
    "coin flips, so the weighted sum follows a known law; the p-value is its upper tail, computed "
    "exactly, or for long texts bounded from above (which can only understate the evidence)."};

const SchemeWords& words(const SchemeParams& p) {
  switch (p.tournament.score) {
    case TournamentScore::kMean: return kMeanWords;
    case TournamentScore::kWeightedMean: return kWeightedWords;
  }
  return kMeanWords;  // unreachable for parameters that validate() accepts
}

Status setup(detail::HookImpl& impl, const KeyRing&) {
  impl.bits = kBits;
  return Status::ok();
}

float max_bias(const detail::HookImpl&) { return 0.0f; }  // unused: the tournament needs every candidate

// The step's tournament distribution over a dense row (the vectorised row path) or a candidate list, in the
// sequence's buffers; returns how many entries it holds.
size_t step_distribution(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys,
                         detail::DenseList list) {
  return distribution_row(keys, detail::HookImpl::tournament_buffers(seq), list.row, static_cast<uint32_t>(list.n),
                          impl.params.tournament.layers);
}
size_t step_distribution(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys,
                         detail::CandidateList list) {
  return distribution(keys, detail::HookImpl::workspace(seq), detail::HookImpl::tournament_buffers(seq), list,
                      impl.params.vocab_size, impl.params.tournament.layers);
}

void bias_row_op(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys, float* row, uint32_t n,
                 int64_t n_vocab, uint32_t) {
  const detail::DenseList list{row, n};
  write_log_probs(detail::HookImpl::tournament_buffers(seq), step_distribution(impl, seq, keys, list), list);
  // The row now holds a log-distribution over the vocabulary: ids past vocab_size (padding) must not compete.
  std::fill(row + n, row + n_vocab, -std::numeric_limits<float>::infinity());
}

void bias_list_op(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys,
                  detail::CandidateList list) {
  write_log_probs(detail::HookImpl::tournament_buffers(seq), step_distribution(impl, seq, keys, list), list);
}

template <typename List>
ptrdiff_t choose(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys, List list, double uniform) {
  return sample(detail::HookImpl::tournament_buffers(seq), step_distribution(impl, seq, keys, list), uniform);
}

void score_op(const detail::HookImpl& impl, const uint32_t* values, const int32_t* tokens, size_t n, double* out) {
  const uint32_t layers = impl.params.tournament.layers;
  const uint32_t vocab = impl.params.vocab_size;
  switch (impl.params.tournament.score) {
    case TournamentScore::kMean:
      return detail::score_tokens(vocab, values, tokens, n, out, [layers](uint32_t v) { return score(v, layers); });
    case TournamentScore::kWeightedMean:
      return detail::score_tokens(vocab, values, tokens, n, out,
                                  [layers](uint32_t v) { return weighted_score(v, layers); });
  }
}

const detail::SchemeOps kOps = {
    SchemeKind::kTournament,       setup,   true, max_bias, bias_row_op, bias_list_op, choose<detail::DenseList>,
    choose<detail::CandidateList>, score_op};

}  // namespace

extern const SchemeInfo kInfo = {SchemeKind::kTournament,
                                 "tournament",
                                 "SynthID-style tournament sampling (Dathathri et al. 2024)",
                                 "tt-trn01",
                                 true,
                                 validate,
                                 describe,
                                 null_model,
                                 words,
                                 &kOps};

}  // namespace telltale::tournament
