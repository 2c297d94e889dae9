// Exact upper/lower tails of the verifier's null distributions, returned as natural-log p-values.
//
// Under H0 (the text never saw the key) and after (context, token) de-duplication, every telltale
// score has a known, exact null law (spec/statistics.md; research notes b.3, b.4, b.6, b.9):
//   * KGW green count            ~ Binomial(n, gamma)           -> log_binomial_sf
//   * Gumbel/EXP sum -log(1 - r) ~ Gamma(n, 1)                  -> log_gamma_sf
//   * SynthID tournament, mean   : sum of g-values ~ Binomial(m*n, 1/2)
//   * SynthID tournament, weighted mean: sum of integer-weighted Bernoulli(1/2)
//                                                               -> log_weighted_bernoulli_sf
// All tails are inclusive of the observed value (P(X >= k), never a mid-p), and all are computed in
// log space so that p-values far below the double range (1e-300, 1e-5000, ...) are still exact to
// about 1e-12 relative error of the log.
//
// Error convention (consistent across telltale::stats): no exceptions for expected conditions.
// Arguments outside the domain (a probability outside [0, 1] or NaN, a negative shape, counts above
// 2^53, ...) make the function return a quiet NaN; every function documents its domain.
#pragma once

#include <cstdint>
#include <span>

namespace telltale::stats {

// Counts above this are not exactly representable as doubles; the binomial functions return NaN.
inline constexpr uint64_t kMaxExactCount = uint64_t{1} << 53;

// ln P(X >= k), X ~ Binomial(n, p). k = 0 gives 0; k > n gives -inf; p outside [0, 1] or NaN, or
// n > kMaxExactCount, gives NaN. Accuracy (checked against 50-digit references): the p-value,
// where representable, to ~1e-13 relative; ln p to ~1e-13 relative beyond that (1e-5000, ...).
// Cost: O(1) Boost call for n <= 1e7; otherwise a ratio series whose length is ~39/(1 - r) terms
// and at most ~9 sqrt(n p (1-p)): microseconds in the tails, ~5 ms next to the mean at n = 1e11.
// Above ~1e12 next to the mean it falls back to Boost (relative error then ~n * 1e-20, see tails.cpp).
double log_binomial_sf(uint64_t k, uint64_t n, double p) noexcept;

// ln P(X <= k), X ~ Binomial(n, p) (lower tail, inclusive). k >= n gives 0. Same domain/accuracy.
double log_binomial_cdf(uint64_t k, uint64_t n, double p) noexcept;

// ln P(X = k), X ~ Binomial(n, p), by Loader's saddle-point form (accurate for huge n).
double log_binomial_pmf(uint64_t k, uint64_t n, double p) noexcept;

// ln P(G >= x), G ~ Gamma(shape, 1) (the regularized upper incomplete gamma Q(shape, x)).
// x <= 0 gives 0; x = +inf gives -inf; shape <= 0, shape = inf or NaN arguments give NaN.
// Accuracy as for the binomial (~1e-13 relative in p, or in ln p below the double range), verified
// for shapes 0.5 to 1e10; cost O(1) near the mean, O(sqrt(shape)) at worst in between (~ms at 1e10).
// Shapes below ~1e-30 are accepted but not verified.
double log_gamma_sf(double x, double shape) noexcept;

// ln P(G <= x), G ~ Gamma(shape, 1) (the regularized lower incomplete gamma P(shape, x)).
// x <= 0 gives -inf; x = +inf gives 0. Same domain/accuracy as log_gamma_sf.
double log_gamma_cdf(double x, double shape) noexcept;

// ln P(T >= threshold) where T = sum_i w_i B_i, B_i iid Bernoulli(1/2), and the weights are
// non-negative integers given as a histogram: count_by_weight[w] is how many terms carry weight w
// (count_by_weight[0] is allowed and ignored). For the SynthID weighted-mean detector with m
// layers, layer l gets an integer weight w_l and every scored token contributes one g-value per
// layer, so count_by_weight[w_l] += (number of scored tokens) for each layer.
// threshold = 0 gives 0; threshold > sum w_i c_w gives -inf.
// Cost: O(C * D) time and O(D) memory, C = sum of counts, D = min(t, W - t + 1) <= W/2 + 1 (W = total
// weight, t = threshold, both after dividing out the gcd of the weights): an exact DP over the
// integer sum (see tails.cpp); e.g. 500 tokens x 30 layers with weights 1..10 take ~0.3 s.
// Relative error ~C ulps. Returns NaN if W overflows or exceeds 2^53, or if D exceeds
// kMaxWeightedStates (the caller should coarsen the weights).
// With q: the same for B_i iid Bernoulli(q), q in (0, 1) (NaN outside): the radioactivity probability score's null
// (spec/statistics.md, section 7). At q = 1/2 the arithmetic is the fair-bit one, bit for bit.
inline constexpr uint64_t kMaxWeightedStates = uint64_t{1} << 25;
double log_weighted_bernoulli_sf(std::span<const uint64_t> count_by_weight, uint64_t threshold, double q = 0.5);

// The multiply-adds log_weighted_bernoulli_sf would spend on (count_by_weight, threshold): C * (D + 1), with C the
// number of terms and D its DP size (0 when it answers in closed form). Lets a caller choose it or the bound below.
double weighted_bernoulli_sf_cost(std::span<const uint64_t> count_by_weight, uint64_t threshold, double q = 0.5);

// ln of the Chernoff bound on the same tail: min over lambda >= 0 of ln E[e^(lambda T)] - lambda * threshold.
// Never below the exact ln P(T >= threshold), so it is a valid, conservative p-value; it costs O(groups) per
// iteration of a root search, whatever the counts. 0 when threshold <= E[T]; -inf above the total weight.
double log_weighted_bernoulli_sf_bound(std::span<const uint64_t> count_by_weight, uint64_t threshold, double q = 0.5);

// ln(1 - e^a) for a <= 0, accurate for all a (Maechler 2012, "Accurately computing log(1-exp(-|a|))").
// a = 0 gives -inf; a > 0 or NaN gives NaN.
double log1m_exp(double a) noexcept;

// ln(e^a + e^b) without overflow/underflow.
double log_add_exp(double a, double b) noexcept;

// log10 of a value given as a natural log (for reporting "p = 10^-x").
double log10_from_ln(double ln_value) noexcept;

// (k - n p) / sqrt(n p (1 - p)). For display only: never use it for a p-value (see normal_sf_log).
// NaN when p is outside (0, 1) or n = 0.
double z_score_binomial(uint64_t k, uint64_t n, double p) noexcept;

// ln P(Z >= z), Z ~ N(0, 1), accurate for all z (continued fraction in the far tail). Provided only
// to show, next to the exact tail, how anti-conservative a z-test is at small p (Fernandez et al.
// 2023, "Three bricks", Sec. on z-tests).
double normal_sf_log(double z) noexcept;

}  // namespace telltale::stats
