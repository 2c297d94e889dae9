// The probability score of a suspect (radioactivity, --score probability): over unique contexts, the suspect's
// probability mass on what the watermark favours, sum_i p_i X_i (X_i the scheme's own per-token score: 1 if green for
// KGW and the fingerprint's shared layer, the g-value sum for the tournament, -ln(1 - r) for Gumbel). The weights p_i
// depend on the suspect alone, so under H0 S is a weighted sum of independent null scores with known weights
// (spec/statistics.md, section 7). Missing probability mass is zero: nothing is imputed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "score/exact_sum.hpp"
#include "stats/probability_null.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::radio {

// The DP behind an exact tail may spend this many multiply-adds (about 0.2 s); beyond, the Chernoff bound.
inline constexpr double kProbabilityExactBudget = 2e8;

struct ProbabilityEvidence {
  uint64_t tuples = 0;   // scored (context, token) pairs with a positive probability
  double mass = 0;       // sum of their probabilities
  double statistic = 0;  // sum p_i X_i
  double expected = 0;   // its mean under H0
  double trials = 0;     // total weight of the null terms: the mass (KGW, Gumbel), times the layers (tournament)
  double z = 0;          // (statistic - expected) / sd under H0: for orientation only, never a p-value
  double log_p = 0;      // ln of the p-value (an upper bound on the exact tail, see method)
  stats::TailMethod method = stats::TailMethod::kChernoff;
  uint64_t grid = 0;
  double favoured_fraction() const { return trials > 0 ? statistic / trials : 0.0; }
  // "exact tail (weights rounded up to multiples of 1/4096)" or "Chernoff bound from the exact MGF".
  std::string method_text() const;
};

class ProbabilityTally {
 public:
  explicit ProbabilityTally(const NullModel& null) : null_(null) {}
  // One scored tuple: the suspect's probability of the token (in [0, 1]) and the scheme's score of it.
  void add(double probability, double score);
  ProbabilityEvidence evaluate() const;

 private:
  NullModel null_;
  score::ExactSum statistic_;  // order-independent, truncated toward zero (conservative)
  score::ExactSum mass_;
  std::vector<stats::WeightedTerm> terms_;
  uint64_t tuples_ = 0;
};

}  // namespace telltale::radio
