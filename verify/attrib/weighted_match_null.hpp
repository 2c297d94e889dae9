// The null law of the model-aware account test: an account's weighted match sum sum_i u_i M_i (u_i a context's weight
// in grid units, M_i whether its keyed bit equals the account's codeword bit) is bounded, as the plain count is by
// Binomial(n, theta), by sum_i u_i B_i with B_i independent Bernoulli(theta) (spec/statistics.md section 8).
#pragma once

#include <cstdint>
#include <vector>

namespace telltale::attrib {

// The exact tail's dynamic programme may spend this many multiply-adds per distinct match sum; beyond, the Chernoff
// bound from the exact moment generating function.
inline constexpr double kWeightedMatchExactBudget = 5e7;

class WeightedMatchNull {
 public:
  // One scored context of weight `units` (> 0; a context of weight 0 is not scored at all).
  void add(uint32_t units) {
    if (units >= counts_.size()) counts_.resize(units + 1, 0);
    ++counts_[units];
  }
  void add(const WeightedMatchNull& other);
  void clear() { counts_.clear(); }

  // ln P(sum_i u_i B_i >= matches), B_i ~ Bernoulli(theta): exact (verify/stats weighted-Bernoulli DP) when it costs
  // at most kWeightedMatchExactBudget, else the Chernoff bound (never below the exact tail). `exact` (if set) says
  // which.
  double log_sf(uint64_t matches, double theta, bool* exact = nullptr) const;

 private:
  std::vector<uint64_t> counts_;  // counts_[u]: contexts of weight u
};

}  // namespace telltale::attrib
