#include "power_prediction.hpp"

#include <cmath>
#include <vector>

#include "stats/tails.hpp"

namespace telltale::research {
namespace {

// pmf of the Poisson binomial, by the exact recursion over trials.
std::vector<double> poisson_binomial_pmf(std::span<const double> p) {
  std::vector<double> pmf(p.size() + 1, 0.0);
  pmf[0] = 1.0;
  for (size_t i = 0; i < p.size(); ++i) {
    for (size_t k = i + 1; k > 0; --k) pmf[k] = pmf[k] * (1 - p[i]) + pmf[k - 1] * p[i];
    pmf[0] *= 1 - p[i];
  }
  return pmf;
}

}  // namespace

uint64_t critical_count(uint64_t n, double p, double alpha) {
  const double log_alpha = std::log(alpha);
  for (uint64_t k = 0; k <= n; ++k)
    if (stats::log_binomial_sf(k, n, p) <= log_alpha) return k;
  return n + 1;
}

double poisson_binomial_sf(std::span<const double> p, uint64_t k) {
  const std::vector<double> pmf = poisson_binomial_pmf(p);
  double sf = 0;
  for (size_t j = k; j < pmf.size(); ++j) sf += pmf[j];
  return sf;
}

uint64_t poisson_binomial_lower_bound(std::span<const double> p, double beta) {
  const std::vector<double> pmf = poisson_binomial_pmf(p);
  double below = 0;  // P(X < k)
  uint64_t k = 0;
  while (k < pmf.size() && below + pmf[k] <= beta) below += pmf[k++];
  return k;
}

}  // namespace telltale::research
