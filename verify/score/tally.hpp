// What a set of scored tuples adds up to (count and exact score sum), and its exact p-value under the scheme's null.
#pragma once

#include <cstdint>

#include "score/exact_sum.hpp"
#include "telltale/hook.hpp"

namespace telltale::score {

// Mergeable: tallies of disjoint tuple sets add.
struct Tally {
  uint64_t scored = 0;  // number of scored tuples N
  ExactSum sum;         // sum of their scores: green count (KGW), sum of -ln(1 - r) (Gumbel), sum of g-values

  void add(double score) noexcept {
    ++scored;
    sum.add(score);
  }
  void add(const Tally& other) noexcept {
    scored += other.scored;
    sum.add(other.sum);
  }
  bool operator==(const Tally& other) const noexcept { return scored == other.scored && sum == other.sum; }
};

// The test of one tally (spec/statistics.md, section 2): exact upper tail, inclusive, in natural log.
struct Evidence {
  uint64_t scored = 0;
  double statistic = 0;  // the observed sum
  double expected = 0;   // its mean under H0
  double trials = 0;     // Bernoulli trials behind the statistic: N (KGW), m N (tournament); N for Gumbel; the
                         // total weight N * sum_l w_l for the weighted mean (so the fraction is a weighted one)
  double log_p = 0;      // ln P_H0(statistic >= observed); 0 when nothing was scored
  double z = 0;          // (statistic - mean) / sd under H0: for orientation only, never a p-value
  bool bound = false;    // log_p is a Chernoff upper bound (weighted mean over many tuples), not the exact tail
  // The favoured fraction: green fraction (KGW), fraction of g-values that are 1 (tournament), mean score (Gumbel).
  double favoured_fraction() const { return trials > 0 ? statistic / trials : 0.0; }
};

// The weighted-mean tail is exact up to kWeightedExactBudget multiply-adds of the DP (about 0.05 s; a few hundred
// tuples at m = 30), and a Chernoff bound beyond, flagged in Evidence::bound.
inline constexpr double kWeightedExactBudget = 5e7;
Evidence evaluate(const Tally& tally, const NullModel& null);

}  // namespace telltale::score
