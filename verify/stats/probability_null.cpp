// Tails of probability-weighted sums of Bernoulli and exponential terms (declared in probability_null.hpp). The grid
// rounds every weight up and the threshold down, so the exact tail of the rounded sum bounds the true one from above:
// S <= S_grid / G term by term, hence P(S >= s) <= P(S_grid >= ceil(G s)). Chernoff: P(S >= s) <= E[e^(lambda S)]
// e^(-lambda s) for every lambda >= 0 (Chernoff 1952); the MGF of independent terms is the product of theirs.
#include "stats/probability_null.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "stats/tails.hpp"

namespace telltale::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

bool valid_terms(std::span<const WeightedTerm> terms) {
  return std::all_of(terms.begin(), terms.end(),
                     [](const WeightedTerm& t) { return std::isfinite(t.weight) && t.weight > 0; });
}

double lowered(double observed) { return observed * (1 - kObservedSlack); }

// min over lambda in [0, hi) of f(lambda) = log_mgf(lambda) - lambda s, f convex with f' = tilted_mean - s: the root
// of the tilted mean by bisection. Any lambda gives a valid bound; the root gives the tightest.
template <class LogMgf, class TiltedMean>
double chernoff_minimum(LogMgf log_mgf, TiltedMean tilted_mean, double s, double hi, bool hi_open) {
  double lo = 0;
  if (!hi_open) {
    while (tilted_mean(hi) < s && hi < 1e12) hi *= 2;
  }
  for (int it = 0; it < 300 && hi - lo > 1e-15 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (tilted_mean(mid) < s ? lo : hi) = mid;
  }
  const double lambda = hi_open ? lo : 0.5 * (lo + hi);  // open: stay strictly inside the MGF's domain
  return std::min(0.0, log_mgf(lambda) - lambda * s);
}

}  // namespace

double log_weighted_bernoulli_chernoff(std::span<const WeightedTerm> terms, double q, double observed) {
  if (!(q > 0 && q < 1) || !valid_terms(terms) || std::isnan(observed)) return kNaN;
  double total = 0, count = 0;
  for (const auto& t : terms) {
    total += t.weight * t.count;
    count += t.count;
  }
  const double s = lowered(observed);
  if (s <= q * total) return 0.0;
  if (s > total) return -kInf;
  const double log_q = std::log(q), inv_odds = (1 - q) / q;
  // ln E[e^(x B)] = ln(1 - q + q e^x) = x + ln q + ln1p(e^(-x) (1 - q) / q), stable for x >= 0.
  auto log_mgf = [&](double lambda) {
    double f = 0;
    for (const auto& t : terms) {
      const double x = lambda * t.weight;
      f += t.count * (x + log_q + std::log1p(std::exp(-x) * inv_odds));
    }
    return f;
  };
  auto tilted_mean = [&](double lambda) {
    double m = 0;
    for (const auto& t : terms) m += t.count * t.weight / (1 + std::exp(-lambda * t.weight) * inv_odds);
    return m;
  };
  if (s == total) return count * log_q;  // every term must be 1: the infimum as lambda -> inf
  return chernoff_minimum(log_mgf, tilted_mean, s, 1.0, false);
}

double log_weighted_exponential_chernoff(std::span<const WeightedTerm> terms, double observed) {
  if (!valid_terms(terms) || std::isnan(observed)) return kNaN;
  double mean = 0, max_weight = 0;
  for (const auto& t : terms) {
    mean += t.weight * t.count;
    max_weight = std::max(max_weight, t.weight);
  }
  const double s = lowered(observed);
  if (s <= mean) return 0.0;
  // E[e^(lambda w E)] = 1 / (1 - lambda w) for lambda w < 1; the tilted mean of w E is w / (1 - lambda w).
  auto log_mgf = [&](double lambda) {
    double f = 0;
    for (const auto& t : terms) f -= t.count * std::log1p(-lambda * t.weight);
    return f;
  };
  auto tilted_mean = [&](double lambda) {
    double m = 0;
    for (const auto& t : terms) m += t.count * t.weight / (1 - lambda * t.weight);
    return m;
  };
  return chernoff_minimum(log_mgf, tilted_mean, s, 1 / max_weight, true);
}

TailBound weighted_bernoulli_tail(std::span<const WeightedTerm> terms, double q, double observed, double budget) {
  TailBound r;
  r.log_p = log_weighted_bernoulli_chernoff(terms, q, observed);
  if (std::isnan(r.log_p) || r.log_p == -kInf) return r;  // nothing finer to compute
  double max_weight = 0;
  for (const auto& t : terms) max_weight = std::max(max_weight, t.weight);
  std::vector<uint64_t> count_by_weight;
  for (uint64_t grid = uint64_t{1} << 16; grid >= (uint64_t{1} << 8); grid >>= 2) {
    const double g = static_cast<double>(grid);
    if (max_weight * g > static_cast<double>(kMaxWeightedStates)) continue;
    // floor(g w) + 1 > g w whatever the rounding of the product; the threshold one step lower for the same reason.
    count_by_weight.assign(static_cast<size_t>(std::floor(max_weight * g)) + 2, 0);
    for (const auto& t : terms) count_by_weight[static_cast<size_t>(std::floor(t.weight * g)) + 1] += t.count;
    const double scaled = std::ceil(g * lowered(observed)) - 1;
    const uint64_t threshold = scaled > 0 ? static_cast<uint64_t>(scaled) : 0;
    if (weighted_bernoulli_sf_cost(count_by_weight, threshold, q) > budget) continue;
    const double exact = log_weighted_bernoulli_sf(count_by_weight, threshold, q);
    if (!std::isnan(exact) && exact < r.log_p) r = {exact, TailMethod::kExactGrid, grid};
    break;
  }
  return r;
}

}  // namespace telltale::stats
