// Exact p-values of tallies: binomial for KGW green counts, gamma for Gumbel sums, binomial over m N fair bits for
// the tournament (spec/statistics.md, table in section 2).
#include "score/tally.hpp"

#include <cmath>

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
  }
  return e;
}

}  // namespace telltale::score
