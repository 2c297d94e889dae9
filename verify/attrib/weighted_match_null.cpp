// The weighted account test's tail: the weighted-Bernoulli DP and its Chernoff bound of verify/stats, on the integer
// weights the scan accumulated (nothing is rounded here: the weights were put on the grid when they were computed).
#include "attrib/weighted_match_null.hpp"

#include <algorithm>
#include <cmath>

#include "stats/tails.hpp"

namespace telltale::attrib {

void WeightedMatchNull::add(const WeightedMatchNull& other) {
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t u = 0; u < other.counts_.size(); ++u) counts_[u] += other.counts_[u];
}

double WeightedMatchNull::log_sf(uint64_t matches, double theta, bool* exact) const {
  if (exact != nullptr) *exact = true;
  if (stats::weighted_bernoulli_sf_cost(counts_, matches, theta) <= kWeightedMatchExactBudget) {
    const double p = stats::log_weighted_bernoulli_sf(counts_, matches, theta);
    if (!std::isnan(p)) return p;
  }
  if (exact != nullptr) *exact = false;
  return stats::log_weighted_bernoulli_sf_bound(counts_, matches, theta);
}

}  // namespace telltale::attrib
