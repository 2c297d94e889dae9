// Exact p-values of tallies: binomial for KGW green counts, gamma for Gumbel sums, binomial over m N fair bits for
// the tournament (spec/statistics.md, table in section 2).
#include "score/tally.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "stats/tails.hpp"

namespace telltale::score {

Evidence evaluate(const Tally& tally, const NullModel& null) {
  Evidence e;
  e.scored = tally.scored;
  e.statistic = tally.sum.value();
  if (tally.scored == 0) return e;
  const auto n = tally.scored;
  switch (null.kind) {
    case NullKind::kBernoulli: {
      // The sum of 0/1 scores is an integer far below 2^53: value() is exact.
      const auto k = static_cast<uint64_t>(e.statistic);
      e.trials = static_cast<double>(n);
      e.expected = static_cast<double>(n) * null.p;
      e.log_p = stats::log_binomial_sf(k, n, null.p);
      e.z = stats::z_score_binomial(k, n, null.p);
      break;
    }
    case NullKind::kExponential:
      e.trials = static_cast<double>(n);
      e.expected = static_cast<double>(n);
      e.log_p = stats::log_gamma_sf(e.statistic, static_cast<double>(n));
      e.z = (e.statistic - e.expected) / std::sqrt(e.expected);
      break;
    case NullKind::kBinomial: {
      const auto k = static_cast<uint64_t>(e.statistic);
      const uint64_t bits = n * null.layers;
      e.trials = static_cast<double>(bits);
      e.expected = 0.5 * static_cast<double>(bits);
      e.log_p = stats::log_binomial_sf(k, bits, 0.5);
      e.z = stats::z_score_binomial(k, bits, 0.5);
      break;
    }
    case NullKind::kWeightedBits: {
      // Every scored tuple contributes one fair bit per layer, layer l with weight w_l: the histogram of weights
      // over all N m bits is N times the per-tuple one.
      std::vector<uint64_t> count_by_weight;
      double weight_sum = 0, weight_sq = 0;
      for (uint32_t l = 0; l < null.layers; ++l) {
        const uint32_t w = tournament_weight(l, null.layers);
        if (count_by_weight.size() <= w) count_by_weight.resize(w + 1, 0);
        count_by_weight[w] += n;
        weight_sum += w;
        weight_sq += static_cast<double>(w) * w;
      }
      const auto t = static_cast<uint64_t>(e.statistic);  // an integer sum of integers, exact in ExactSum
      e.trials = static_cast<double>(n) * weight_sum;
      e.expected = 0.5 * e.trials;
      e.z = (e.statistic - e.expected) / std::sqrt(0.25 * static_cast<double>(n) * weight_sq);
      double exact = std::numeric_limits<double>::quiet_NaN();
      if (stats::weighted_bernoulli_sf_cost(count_by_weight, t) <= kWeightedExactBudget) {
        exact = stats::log_weighted_bernoulli_sf(count_by_weight, t);
      }
      e.bound = std::isnan(exact);
      e.log_p = e.bound ? stats::log_weighted_bernoulli_sf_bound(count_by_weight, t) : exact;
      break;
    }
  }
  return e;
}

}  // namespace telltale::score
