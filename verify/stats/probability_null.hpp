// The null law of a probability-weighted radioactivity score, S = sum_i w_i X_i with known weights w_i > 0 and X_i
// independent draws of the scheme's per-token null (spec/statistics.md, section 7): its upper tail, exact on a grid
// with the weights rounded up (conservative), or the Chernoff bound from the exact moment generating function.
#pragma once

#include <cstdint>
#include <span>

namespace telltale::stats {

// `count` terms of weight `weight` (a probability, or a probability times a tournament layer weight).
struct WeightedTerm {
  double weight = 0;
  uint32_t count = 1;
};

enum class TailMethod {
  kExactGrid,  // exact tail of the sum with every weight rounded up to a multiple of 1/grid
  kChernoff,   // min over lambda >= 0 of ln E[e^(lambda S)] - lambda s, from the exact (unrounded) MGF
};

struct TailBound {
  double log_p = 0;  // ln of an upper bound on P_H0(S >= observed), never below the exact tail
  TailMethod method = TailMethod::kChernoff;
  uint64_t grid = 0;  // kExactGrid: the grid's 1/step
};

// The observed value is first lowered by a relative 1e-9 so that rounding in its floating-point sum cannot make the
// p-value anti-conservative (spec/statistics.md, section 7).
inline constexpr double kObservedSlack = 1e-9;

// X_i ~ Bernoulli(q), q in (0, 1). ln of the Chernoff bound on P(S >= observed); 0 at or below the mean, -inf above
// the total weight; NaN for a q outside (0, 1) or a weight that is not finite and positive.
double log_weighted_bernoulli_chernoff(std::span<const WeightedTerm> terms, double q, double observed);

// X_i ~ Exp(1) (the Gumbel score -ln(1 - r)). ln of the Chernoff bound on P(S >= observed); 0 at or below the mean.
double log_weighted_exponential_chernoff(std::span<const WeightedTerm> terms, double observed);

// X_i ~ Bernoulli(q): the exact tail on the finest grid (2^16 down to 2^8 steps per unit of weight) whose dynamic
// programme costs at most `budget` multiply-adds, or the Chernoff bound; whichever is smaller when both are
// computed (each bounds the same exact tail from above, so the smaller one does too).
TailBound weighted_bernoulli_tail(std::span<const WeightedTerm> terms, double q, double observed, double budget);

}  // namespace telltale::stats
