// Exact tail of a sum of integer-weighted Bernoulli(q) terms (the SynthID weighted-mean null at q = 1/2, the
// radioactivity probability score at q = gamma), by a tilted dynamic programme, and its Chernoff bound; declared in
// tails.hpp beside the binomial and gamma tails.
#include "stats/tails.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

namespace telltale::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLn2 = std::numbers::ln2;

struct WeightGroup {
  uint64_t weight;
  uint64_t count;
};

// Entries of the tilted DP below this are flushed to zero (their total is tracked and checked).
constexpr double kDpTiny = 1e-250;

// ln P(T <= s), T = sum of w B over the groups with P(B = 1) = p1 = odds / (1 + odds) and ln(1 - p1) = log_p0, for
// 1 <= s < p1 W (the small side), by an exact DP over the integer partial sum u in [0, s] under an exponentially
// tilted measure. (At p1 = 1/2, odds = 1 and log_p0 = -ln 2: the arithmetic is the one of the fair-bit case.)
//
// Why tilt: P(T <= s) can be 1e-5000 while intermediate probabilities span thousands of orders of
// magnitude, which plain doubles cannot hold and a log-space DP would make ~20x slower. Under the
// tilted law P_theta(B_i = 1) = r theta^w_i / (1 + r theta^w_i) (0 < theta <= 1, r the odds) the likelihood ratio
// is P/P_theta = Z(theta) theta^-T with Z = prod_i (1 - p1)(1 + r theta^w_i), so
//     P(T <= s) = Z(theta) theta^-s * sum_{u <= s} theta^(s-u) P_theta(T = u).
// Choosing theta so that E_theta[T] = s (the saddle point) makes the sum an O(1/sd) quantity that
// is dominated by u near s, so the DP runs in plain doubles; everything tiny is in the closed-form
// prefactor, taken in logs. The DP itself is exact arithmetic on non-negative numbers (no
// cancellation: relative error <= ~2 eps per step; with the rounding of theta^w, ~C ulps in all).
// The identity holds for any theta, so the precision of the root-finding below is immaterial. Entries below kDpTiny are
// dropped (so are shifts by groups with theta^w < 1e-100); the dropped mass is an absolute bound on the error of the
// sum and is checked against it at the end (NaN if it could matter, which we have not seen happen).
//
// Cost: O(sum_g count_g * (s + 1)) multiply-adds, O(s) memory.
double log_weighted_lower(const std::vector<WeightGroup>& groups, uint64_t s_int, double odds, double log_p0) {
  uint64_t total_count = 0;
  for (const auto& g : groups) total_count += g.count;
  if (s_int == 0) return static_cast<double>(total_count) * log_p0;  // every term must be 0
  const double s = static_cast<double>(s_int);

  // Solve E_lambda[T] = sum_g c_g w_g / (1 + e^(-lambda w_g) / r) = s for lambda = ln theta <= 0.
  auto tilted_mean = [&](double lambda) {
    double m = 0.0;
    for (const auto& g : groups) {
      const double w = static_cast<double>(g.weight);
      m += static_cast<double>(g.count) * w / (1.0 + std::exp(-lambda * w) / odds);
    }
    return m;
  };
  double hi = 0.0, lo = -1.0;
  while (tilted_mean(lo) > s) {
    hi = lo;
    lo *= 2.0;
  }
  for (int it = 0; it < 200 && hi - lo > 1e-15 * std::fabs(lo); ++it) {
    const double mid = 0.5 * (lo + hi);
    (tilted_mean(mid) > s ? hi : lo) = mid;
  }
  const double lambda = 0.5 * (lo + hi);

  const size_t size = static_cast<size_t>(s_int) + 1;
  std::vector<double> a(size, 0.0), b(size, 0.0);
  a[0] = 1.0;
  size_t first = 0, last = 0;  // nonzero support of a
  double dropped = 0.0;        // absolute bound on the mass thrown away
  double log_z = 0.0;
  for (const auto& g : groups) {
    const double t = odds * std::exp(lambda * static_cast<double>(g.weight));  // r theta^w
    log_z += static_cast<double>(g.count) * (std::log1p(t) + log_p0);
    const double pi1 = t / (1.0 + t);
    const double pi0 = 1.0 / (1.0 + t);
    const size_t w = static_cast<size_t>(g.weight);
    if (pi1 < 1e-100 || w >= size) {
      // A shift past s leaves [0, s] for good (weights are >= 0): dropping it is exact. A shift
      // with probability < 1e-100 per term is negligible: count it in `dropped`. Kept: pi0^count.
      if (w < size) dropped += static_cast<double>(g.count) * pi1;
      const double keep = std::exp(static_cast<double>(g.count) * std::log(pi0));
      for (size_t u = first; u <= last; ++u) a[u] *= keep;
      continue;
    }
    for (uint64_t rep = 0; rep < g.count; ++rep) {
      const size_t new_last = std::min(size - 1, last + w);
      const double* __restrict__ src = a.data();
      double* __restrict__ dst = b.data();
      for (size_t u = first; u < first + w && u <= new_last; ++u) dst[u] = pi0 * src[u];
      for (size_t u = first + w; u <= new_last; ++u) dst[u] = pi0 * src[u] + pi1 * src[u - w];
      std::swap(a, b);
      last = new_last;
      // Invariant: b (next round's dst) is zero from `first` up, and a is zero above `last`
      // (the reads src[u] for u in (last, last + w] rely on it).
      for (size_t u = first; u <= last; ++u) b[u] = 0.0;
      while (first < last && a[first] < kDpTiny) {
        dropped += a[first];
        a[first++] = 0.0;
      }
      while (last > first && a[last] < kDpTiny) {
        dropped += a[last];
        a[last--] = 0.0;
      }
    }
  }
  // sum_{u <= s} theta^(s-u) P_theta(T = u), largest terms (u near s) last for a clean sum.
  double sum = 0.0;
  for (size_t u = first; u <= last; ++u) sum += std::exp(lambda * (s - static_cast<double>(u))) * a[u];
  if (!(sum > 0.0) || dropped > 1e-15 * sum) return kNaN;  // cannot certify accuracy
  return log_z - lambda * s + std::log(sum);
}

// What the exact weighted tail and its cost estimate both work on: the weight groups and the threshold divided by the
// weights' gcd (T is a multiple of it, so P(T >= t) = P(T/g >= ceil(t/g)) on a dense lattice), and the DP's
// lower-tail bound s. B -> 1 - B maps Bernoulli(q) to Bernoulli(1 - q) and T -> W - T, so P(T >= t) is the lower tail
// P(W - T <= W - t) of the flipped sum: the DP computes whichever tail is the small side and `direct` says whether
// it is that flipped upper tail (else the lower tail of T, complemented).
struct WeightedTail {
  std::vector<WeightGroup> groups;
  uint64_t terms = 0;      // Bernoulli terms C
  uint64_t raw_total = 0;  // W before dividing by the gcd
  bool overflow = false;   // W does not fit in 64 bits
  uint64_t total = 0;      // W / g
  uint64_t t = 0;          // ceil(threshold / g)
  bool direct = false;
  uint64_t s = 0;
};

WeightedTail reduce_weighted_tail(std::span<const uint64_t> count_by_weight, uint64_t threshold, double q) {
  WeightedTail r;
  uint64_t g = 0;
  for (size_t w = 1; w < count_by_weight.size(); ++w) {
    const uint64_t c = count_by_weight[w];
    if (c == 0) continue;
    uint64_t add = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(w), c, &add) ||
        __builtin_add_overflow(r.raw_total, add, &r.raw_total)) {
      r.overflow = true;
      return r;
    }
    r.groups.push_back({static_cast<uint64_t>(w), c});
    r.terms += c;
    g = std::gcd(g, static_cast<uint64_t>(w));
  }
  if (threshold == 0 || threshold > r.raw_total) return r;
  for (auto& grp : r.groups) grp.weight /= g;
  r.total = r.raw_total / g;
  r.t = (threshold + g - 1) / g;
  // The upper tail is the small side above the mean q W (at q = 1/2: 2 t > W, exactly, as W < 2^53 when it is used).
  r.direct = static_cast<double>(r.t) > q * static_cast<double>(r.total);
  r.s = r.direct ? r.total - r.t : r.t - 1;
  return r;
}

}  // namespace

double log_weighted_bernoulli_sf(std::span<const uint64_t> count_by_weight, uint64_t threshold, double q) {
  if (!(q > 0 && q < 1)) return kNaN;
  const WeightedTail r = reduce_weighted_tail(count_by_weight, threshold, q);
  if (r.overflow || r.raw_total > kMaxExactCount) return kNaN;
  if (threshold == 0) return 0.0;
  if (threshold > r.raw_total) return -kInf;
  if (r.groups.size() == 1) return log_binomial_sf(r.t, r.groups[0].count, q);  // one weight: Binomial(C, q)
  if (r.s + 1 > kMaxWeightedStates) return kNaN;
  // The flipped sum's terms are Bernoulli(1 - q); the odds and ln P(0) of the summed bits, as the DP wants them.
  const double p1 = r.direct ? 1 - q : q;
  const double odds = q == 0.5 ? 1.0 : p1 / (1 - p1);
  const double log_p0 = q == 0.5 ? -kLn2 : std::log1p(-p1);
  const double lower = log_weighted_lower(r.groups, r.s, odds, log_p0);
  return r.direct ? lower : log1m_exp(lower);
}

double weighted_bernoulli_sf_cost(std::span<const uint64_t> count_by_weight, uint64_t threshold, double q) {
  const WeightedTail r = reduce_weighted_tail(count_by_weight, threshold, q);
  if (r.overflow) return std::numeric_limits<double>::infinity();  // the exact tail refuses it: take the bound
  if (r.groups.size() <= 1 || threshold == 0 || threshold > r.raw_total) return 0.0;
  return static_cast<double>(r.terms) * (static_cast<double>(r.s) + 1);
}

double log_weighted_bernoulli_sf_bound(std::span<const uint64_t> count_by_weight, uint64_t threshold, double q) {
  if (!(q > 0 && q < 1)) return kNaN;
  double total = 0;
  for (size_t w = 1; w < count_by_weight.size(); ++w) {
    total += static_cast<double>(w) * static_cast<double>(count_by_weight[w]);
  }
  const double mean = q == 0.5 ? total / 2 : q * total;
  // ln E[e^(x B)] = x + ln(q + (1 - q) e^(-x)) = x + ln(q) + ln1p(e^(-x) / odds) for x >= 0 (at q = 1/2: odds = 1).
  const double odds = q == 0.5 ? 1.0 : q / (1 - q);
  const double log_q = q == 0.5 ? -kLn2 : std::log(q);
  const double t = static_cast<double>(threshold);
  if (t <= mean) return 0.0;
  if (t > total) return -kInf;
  // f(lambda) = sum_w c_w ln((1 + e^(lambda w)) / 2) - lambda t is convex with f'(lambda) = E_lambda[T] - t.
  auto log_mgf = [&](double lambda) {
    double s = 0;
    for (size_t w = 1; w < count_by_weight.size(); ++w) {
      if (count_by_weight[w] == 0) continue;
      const double x = lambda * static_cast<double>(w);
      s += static_cast<double>(count_by_weight[w]) * (x + std::log1p(std::exp(-x) / odds) + log_q);  // x >= 0
    }
    return s;
  };
  auto tilted_mean = [&](double lambda) {
    double m = 0;
    for (size_t w = 1; w < count_by_weight.size(); ++w) {
      const double wd = static_cast<double>(w);
      m += static_cast<double>(count_by_weight[w]) * wd / (1.0 + std::exp(-lambda * wd) / odds);
    }
    return m;
  };
  if (t == total) {  // every term must be 1: the infimum (lambda -> inf) is the exact -C ln 2
    double terms = 0;
    for (size_t w = 1; w < count_by_weight.size(); ++w) terms += static_cast<double>(count_by_weight[w]);
    return terms * log_q;
  }
  double lo = 0, hi = 1;
  while (tilted_mean(hi) < t && hi < 1e6) hi *= 2;
  for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (tilted_mean(mid) < t ? lo : hi) = mid;
  }
  // Any lambda >= 0 gives a valid bound; the root makes it the tightest.
  const double lambda = 0.5 * (lo + hi);
  return std::min(0.0, log_mgf(lambda) - lambda * t);
}

}  // namespace telltale::stats
