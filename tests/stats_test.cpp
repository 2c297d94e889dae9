// Tests for verify/stats: every tail against independent 50-digit references, multiple testing,
// the weighted-Bernoulli DP against brute force, and the windowed search on a planted passage.
//
// References are computed here, in boost::multiprecision::cpp_bin_float_50 (50 decimal digits and
// a binary exponent range of about +-2^31, so 1e-5000 is an ordinary number), by *direct
// summation* of pmf terms starting from an lgamma-based pmf -- an algorithm independent of the
// saddle-point pmf + Boost double-precision code under test. A few points are also cross-checked
// against Boost's ibetac / gamma_q evaluated in the same 50-digit type.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/log1p.hpp>
#include <boost/multiprecision/cpp_bin_float.hpp>

#include "stats/multiple_testing.hpp"
#include "stats/tails.hpp"
#include "stats/windowed.hpp"
#include "telltale/scheme.hpp"

namespace {

namespace ts = telltale::stats;
using Mp = boost::multiprecision::cpp_bin_float_50;
constexpr double kInf = std::numeric_limits<double>::infinity();

// The accuracy bar: the p-value's relative error (= absolute error of ln p) below 1e-11, plus
// 1e-12 relative error of ln p (which only matters for ln p beyond ~ -10, i.e. beyond any
// representable p where only the log is meaningful). Near ln p = 0 this is a relative bound on
// ln p itself, so complements (1 - tiny) are checked too.
bool close_log(double got, double ref) {
  if (std::isinf(ref)) return got == ref;
  const double tol = 1e-11 * std::min(1.0, std::fabs(ref)) + 1e-12 * std::fabs(ref);
  return std::fabs(got - ref) <= tol;
}

#define CHECK_LOG_CLOSE(got, ref)                                           \
  do {                                                                      \
    const double got_ = (got);                                              \
    const double ref_ = (ref);                                              \
    INFO("got " << got_ << "  ref " << ref_ << "  diff " << (got_ - ref_)); \
    CHECK(close_log(got_, ref_));                                           \
  } while (0)

// ---- binomial reference -----------------------------------------------------------------------

Mp mp_log_binom_pmf(const Mp& k, const Mp& n, const Mp& p) {
  using boost::math::lgamma;
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * log(p) + (n - k) * boost::math::log1p(-p);
}

// sum_{j>=k} pmf(j)/pmf(k) (upward) or sum_{j<=k} pmf(j)/pmf(k) (downward), to 1e-20 relative.
Mp mp_binom_ratio_sum(const Mp& k, const Mp& n, const Mp& p, bool upward) {
  const Mp rho = upward ? p / (1 - p) : (1 - p) / p;
  Mp sum = 1, term = 1;
  if (upward) {
    for (Mp j = k; j < n; j += 1) {
      const Mp r = (n - j) * rho / (j + 1);
      term *= r;
      sum += term;
      if (r < 1 && term * r < (1 - r) * sum * Mp(1e-20)) break;
    }
  } else {
    for (Mp j = k; j > 0; j -= 1) {
      const Mp r = j * rho / (n - j + 1);
      term *= r;
      sum += term;
      if (r < 1 && term * r < (1 - r) * sum * Mp(1e-20)) break;
    }
  }
  return sum;
}

// ln P(X >= k), X ~ Binomial(n, p), 1 <= k <= n, 0 < p < 1, by direct summation of the smaller tail.
double ref_log_binom_sf(uint64_t k_in, uint64_t n_in, double p_in) {
  const Mp k = k_in, n = n_in, p = p_in;
  if (k > n * p) return static_cast<double>(mp_log_binom_pmf(k, n, p) + log(mp_binom_ratio_sum(k, n, p, true)));
  const Mp lower = exp(mp_log_binom_pmf(k - 1, n, p)) * mp_binom_ratio_sum(k - 1, n, p, false);
  return static_cast<double>(boost::math::log1p(-lower));
}

// ln P(X <= k), 0 <= k < n.
double ref_log_binom_cdf(uint64_t k_in, uint64_t n_in, double p_in) {
  const Mp k = k_in, n = n_in, p = p_in;
  if (k < n * p) return static_cast<double>(mp_log_binom_pmf(k, n, p) + log(mp_binom_ratio_sum(k, n, p, false)));
  const Mp upper = exp(mp_log_binom_pmf(k + 1, n, p)) * mp_binom_ratio_sum(k + 1, n, p, true);
  return static_cast<double>(boost::math::log1p(-upper));
}

// ---- gamma reference (integer shape: Q(a, x) = P(Poisson(x) <= a - 1)) ------------------------

// ln(1 - e^x) in 50 digits, for x <= 0 (Maechler's switch, so 1 - 1e-300 is not rounded to 1).
Mp mp_log1m_exp(const Mp& x) { return x > -0.693 ? Mp(log(-expm1(x))) : Mp(boost::math::log1p(-exp(x))); }

struct GammaRef {
  double log_q;  // ln P(G >= x)
  double log_p;  // ln P(G <= x)
};

GammaRef ref_log_gamma_int(uint64_t a_in, double x_in) {
  using boost::math::lgamma;
  const Mp a = a_in, x = x_in;
  auto log_pois = [&](const Mp& j) { return -x + j * log(x) - lgamma(j + 1); };
  Mp sum = 1, term = 1;
  if (x > a - 1) {  // Q = sum_{j <= a-1} Poisson pmf, summed downward: ratios j/x < 1
    for (Mp j = a - 1; j > 0; j -= 1) {
      const Mp r = j / x;
      term *= r;
      sum += term;
      if (term * r < (1 - r) * sum * Mp(1e-20)) break;
    }
    const Mp log_q = log_pois(a - 1) + log(sum);
    return {static_cast<double>(log_q), static_cast<double>(mp_log1m_exp(log_q))};
  }
  for (Mp j = a;; j += 1) {  // P = sum_{j >= a} Poisson pmf, summed upward: ratios x/(j+1) < 1
    const Mp r = x / (j + 1);
    term *= r;
    sum += term;
    if (term * r < (1 - r) * sum * Mp(1e-20)) break;
  }
  const Mp log_p = log_pois(a) + log(sum);
  return {static_cast<double>(mp_log1m_exp(log_p)), static_cast<double>(log_p)};
}

// Smallest k with log_binomial_sf(k, n, p) <= target (grid selection only; checked separately).
uint64_t k_for_log_p(uint64_t n, double p, double target) {
  uint64_t lo = 0, hi = n;  // sf(lo) > target >= sf(hi) assumed
  if (ts::log_binomial_sf(n, n, p) > target) return n;
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    (ts::log_binomial_sf(mid, n, p) <= target ? hi : lo) = mid;
  }
  return hi;
}

double x_for_log_q(double a, double target) {
  double lo = a, hi = 2 * a + 10;
  while (ts::log_gamma_sf(hi, a) > target) hi *= 2;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (ts::log_gamma_sf(mid, a) <= target ? hi : lo) = mid;
  }
  return hi;
}

const double kLn10 = std::log(10.0);

}  // namespace

TEST_CASE("binomial tails: edge cases", "[stats]") {
  CHECK(ts::log_binomial_sf(0, 10, 0.3) == 0.0);
  CHECK(ts::log_binomial_sf(0, 0, 0.3) == 0.0);
  CHECK(ts::log_binomial_sf(11, 10, 0.3) == -kInf);
  CHECK(ts::log_binomial_sf(1, 10, 0.0) == -kInf);
  CHECK(ts::log_binomial_sf(10, 10, 1.0) == 0.0);
  CHECK(ts::log_binomial_sf(0, 10, 0.0) == 0.0);
  CHECK(std::isnan(ts::log_binomial_sf(3, 10, -0.1)));
  CHECK(std::isnan(ts::log_binomial_sf(3, 10, 1.5)));
  CHECK(std::isnan(ts::log_binomial_sf(3, 10, std::nan(""))));
  CHECK(std::isnan(ts::log_binomial_sf(3, ts::kMaxExactCount + 1, 0.5)));
  // k = n: P = p^n exactly; k = 1: 1 - q^n.
  CHECK_LOG_CLOSE(ts::log_binomial_sf(10, 10, 0.3), 10 * std::log(0.3));
  CHECK_LOG_CLOSE(ts::log_binomial_sf(1000000, 1000000, 0.25), 1e6 * std::log(0.25));  // ~1e-602060
  CHECK_LOG_CLOSE(ts::log_binomial_sf(1, 10, 0.3), std::log1p(-std::pow(0.7, 10)));
  // Extreme p: P(X >= 1) = 1 - (1-p)^n with p = 1e-300, n = 1e11 (~1e-289), and P(X = n) = p^n
  // with p = 1 - 2^-53 (ln = n ln p ~ -1.1e-5, computed through the complement).
  const double n11 = 1e11;
  CHECK_LOG_CLOSE(ts::log_binomial_sf(1, 100000000000ull, 1e-300), std::log(-std::expm1(n11 * std::log1p(-1e-300))));
  const double p_hi = 1.0 - 0x1.0p-53;
  CHECK_LOG_CLOSE(ts::log_binomial_sf(100000000000ull, 100000000000ull, p_hi), n11 * std::log(p_hi));
  CHECK_LOG_CLOSE(ts::log_binomial_cdf(99999999999ull, 100000000000ull, p_hi),
                  std::log(-std::expm1(n11 * std::log(p_hi))));
  // lower tail edges
  CHECK(ts::log_binomial_cdf(10, 10, 0.3) == 0.0);
  CHECK(ts::log_binomial_cdf(3, 10, 0.0) == 0.0);
  CHECK(ts::log_binomial_cdf(3, 10, 1.0) == -kInf);
  CHECK_LOG_CLOSE(ts::log_binomial_cdf(0, 10, 0.3), 10 * std::log1p(-0.3));
  // pmf
  CHECK(ts::log_binomial_pmf(0, 0, 0.5) == 0.0);
  CHECK_LOG_CLOSE(ts::log_binomial_pmf(2, 4, 0.5), std::log(6.0 / 16.0));
}

TEST_CASE("binomial upper tail matches 50-digit direct summation across a grid", "[stats]") {
  struct Case {
    uint64_t n;
    double p;
  };
  const std::vector<Case> cases = {{1, 0.3},
                                   {2, 0.5},
                                   {10, 0.25},
                                   {50, 0.25},
                                   {200, 1e-12},
                                   {1000, 0.5},
                                   {1000, 0.9},
                                   {1000, 0.01},
                                   {1000000, 0.25},
                                   {1000000, 1e-7},
                                   {1000000, 0.999},
                                   // p within 1e-6 of 1: the upper tail at k = ceil(np) exceeds 1/2
                                   {12, 0.99999920887801685},
                                   {125754623, 0.99999923473765751},
                                   {30000000, 0.9}};
  for (const auto& c : cases) {
    const double nd = static_cast<double>(c.n);
    const double mean = nd * c.p, sd = std::sqrt(nd * c.p * (1 - c.p));
    std::vector<uint64_t> ks = {1, c.n};
    for (double z : {-6.0, -3.0, -1.0, 0.0, 0.5, 1.0, 3.0, 6.0, 10.0, 20.0}) {
      const double k = std::ceil(mean + z * sd);
      if (k >= 1 && k <= nd) ks.push_back(static_cast<uint64_t>(k));
    }
    for (double decades : {-300.0, -1000.0, -5000.0}) ks.push_back(k_for_log_p(c.n, c.p, decades * kLn10));
    for (uint64_t k : ks) {
      INFO("n=" << c.n << " p=" << c.p << " k=" << k);
      CHECK_LOG_CLOSE(ts::log_binomial_sf(k, c.n, c.p), ref_log_binom_sf(k, c.n, c.p));
      if (k < c.n) CHECK_LOG_CLOSE(ts::log_binomial_cdf(k, c.n, c.p), ref_log_binom_cdf(k, c.n, c.p));
    }
  }
}

TEST_CASE("binomial tails near 1e-300 and far below (1e-1000, 1e-5000) at n = 1e9 and 1e11", "[stats]") {
  for (uint64_t n : {uint64_t{1000000000}, uint64_t{100000000000}}) {
    for (double p : {0.25, 0.5}) {
      // (The 50-digit reference needs ~1e5 terms per point at n = 1e11 near 1e-300, so fewer there.)
      const auto grid = n < 10000000000ull ? std::vector<double>{-250.0, -300.0, -320.0, -1000.0, -5000.0}
                                           : std::vector<double>{-320.0, -5000.0};
      for (double decades : grid) {
        const uint64_t k = k_for_log_p(n, p, decades * kLn10);
        INFO("n=" << n << " p=" << p << " k=" << k);
        const double got = ts::log_binomial_sf(k, n, p);
        CHECK_LOG_CLOSE(got, ref_log_binom_sf(k, n, p));
        CHECK(got <= decades * kLn10);
      }
    }
  }
  // Near the mean at n = 1e9: the long-series regime (~1e5 terms, re-anchored), on both sides.
  const uint64_t n = 1000000000;
  for (double z : {-2.0, 0.0, 1.0, 4.0}) {
    const uint64_t k = static_cast<uint64_t>(std::ceil(2.5e8 + z * std::sqrt(1e9 * 0.1875)));
    INFO("n=1e9 p=0.25 k=" << k);
    CHECK_LOG_CLOSE(ts::log_binomial_sf(k, n, 0.25), ref_log_binom_sf(k, n, 0.25));
  }
}

TEST_CASE("binomial reference agrees with Boost ibeta in 50 digits (reference sanity)", "[stats]") {
  for (auto [k, n, p] :
       {std::tuple{31ull, 50ull, 0.25}, std::tuple{700ull, 1000ull, 0.5}, std::tuple{5ull, 1000ull, 0.01}}) {
    const Mp ibeta = boost::math::ibeta(Mp(k), Mp(n - k + 1), Mp(p));
    const double boost_ref = static_cast<double>(log(ibeta));
    CHECK_LOG_CLOSE(ref_log_binom_sf(k, n, p), boost_ref);
  }
}

TEST_CASE("gamma tails match 50-digit references", "[stats]") {
  CHECK(ts::log_gamma_sf(0.0, 5.0) == 0.0);
  CHECK(ts::log_gamma_sf(-1.0, 5.0) == 0.0);
  CHECK(ts::log_gamma_sf(kInf, 5.0) == -kInf);
  CHECK(ts::log_gamma_cdf(0.0, 5.0) == -kInf);
  CHECK(std::isnan(ts::log_gamma_sf(1.0, 0.0)));
  CHECK(std::isnan(ts::log_gamma_sf(1.0, -2.0)));
  CHECK(std::isnan(ts::log_gamma_sf(std::nan(""), 2.0)));
  // shape 1: Q = e^-x exactly, also far below the double range.
  for (double x : {1e-300, 1e-8, 0.5, 30.0, 800.0, 12000.0}) CHECK_LOG_CLOSE(ts::log_gamma_sf(x, 1.0), -x);
  // shape 3: Q = e^-x (1 + x + x^2/2).
  for (double x : {0.01, 2.0, 50.0, 2000.0, 20000.0})
    CHECK_LOG_CLOSE(ts::log_gamma_sf(x, 3.0), -x + std::log1p(x + 0.5 * x * x));

  for (uint64_t a :
       {uint64_t{1}, uint64_t{2}, uint64_t{7}, uint64_t{50}, uint64_t{1000}, uint64_t{100000}, uint64_t{10000000}}) {
    const double ad = static_cast<double>(a);
    std::vector<double> xs;
    for (double z : {-6.0, -2.0, -0.5, 0.0, 0.5, 2.0, 6.0, 20.0}) {
      const double x = ad + z * std::sqrt(ad);
      if (x > 0) xs.push_back(x);
    }
    for (double decades : {-300.0, -1000.0, -5000.0}) xs.push_back(x_for_log_q(ad, decades * kLn10));
    for (double x : xs) {
      INFO("a=" << a << " x=" << x);
      const GammaRef ref = ref_log_gamma_int(a, x);
      CHECK_LOG_CLOSE(ts::log_gamma_sf(x, ad), ref.log_q);
      CHECK_LOG_CLOSE(ts::log_gamma_cdf(x, ad), ref.log_p);
    }
  }
  // shape 1e10: deep tails by summation; near the mean the reference sum is too long for a unit test.
  for (double decades : {-300.0, -1000.0, -5000.0}) {
    const double x = x_for_log_q(1e10, decades * kLn10);
    INFO("a=1e10 x=" << x);
    CHECK_LOG_CLOSE(ts::log_gamma_sf(x, 1e10), ref_log_gamma_int(10000000000ull, x).log_q);
  }
  // Non-integer shapes against Boost's gamma_q in 50 digits.
  for (double a : {0.5, 2.5, 100.5}) {
    for (double x : {0.1, a, 3 * a + 5, 900.0, 3000.0}) {
      INFO("a=" << a << " x=" << x);
      const double ref = x < a ? static_cast<double>(boost::math::log1p(-boost::math::gamma_p(Mp(a), Mp(x))))
                               : static_cast<double>(log(boost::math::gamma_q(Mp(a), Mp(x))));
      CHECK_LOG_CLOSE(ts::log_gamma_sf(x, a), ref);
    }
  }
}

TEST_CASE("weighted Bernoulli(1/2) DP matches brute-force enumeration", "[stats]") {
  // weights 1..5 with small counts: enumerate all 2^C outcomes exactly (integer counts).
  const std::vector<std::vector<uint64_t>> configs = {{0, 3},          {0, 2, 1, 0, 0, 1},    {0, 1, 2, 3, 2, 1},
                                                      {0, 0, 4, 0, 3}, {5, 4, 0, 3, 0, 0, 2}, {0, 0, 0, 0, 0, 0, 6}};
  for (const auto& counts : configs) {
    std::vector<uint64_t> w;
    for (size_t i = 0; i < counts.size(); ++i)
      for (uint64_t c = 0; c < counts[i]; ++c) w.push_back(i);
    uint64_t total = 0;
    for (auto x : w) total += x;
    std::vector<uint64_t> hist(total + 1, 0);
    for (uint64_t mask = 0; mask < (uint64_t{1} << w.size()); ++mask) {
      uint64_t s = 0;
      for (size_t i = 0; i < w.size(); ++i)
        if (mask >> i & 1) s += w[i];
      ++hist[s];
    }
    uint64_t tail = 0;
    for (uint64_t t = total + 1; t-- > 0;) {
      tail += hist[t];
      const double ref = std::log(static_cast<double>(tail)) - static_cast<double>(w.size()) * std::log(2.0);
      INFO("config size " << w.size() << " threshold " << t);
      CHECK_LOG_CLOSE(ts::log_weighted_bernoulli_sf(counts, t), ref);
    }
    CHECK(ts::log_weighted_bernoulli_sf(counts, total + 1) == -kInf);
    CHECK(ts::log_weighted_bernoulli_sf(counts, 0) == 0.0);
  }
}

TEST_CASE("weighted Bernoulli DP: unit weights are Binomial(C, 1/2); deep tails vs 50-digit DP", "[stats]") {
  const std::vector<uint64_t> unit = {0, 500};
  for (uint64_t t : {1ull, 200ull, 250ull, 251ull, 300ull, 420ull, 499ull, 500ull})
    CHECK_LOG_CLOSE(ts::log_weighted_bernoulli_sf(unit, t), ts::log_binomial_sf(t, 500, 0.5));
  // A common factor in the weights is divided out exactly: weights {2, 4} behave like {1, 2}.
  CHECK_LOG_CLOSE(ts::log_weighted_bernoulli_sf(std::vector<uint64_t>{0, 0, 30, 0, 20}, 101),
                  ts::log_weighted_bernoulli_sf(std::vector<uint64_t>{0, 30, 20}, 51));

  // Two groups with a closed form: T = X + 2Y, X ~ Bin(3000, 1/2), Y ~ Bernoulli(1/2), so
  // P(T >= t) = (P(X >= t) + P(X >= t - 2)) / 2. Deep thresholds make the DP flush underflowing
  // entries at both ends of its support many times.
  for (uint64_t s : {0ull, 5ull, 300ull, 1400ull, 1600ull}) {
    const uint64_t t = 3002 - s;
    const double ref =
        ts::log_add_exp(ts::log_binomial_sf(t, 3000, 0.5), ts::log_binomial_sf(t - 2, 3000, 0.5)) - std::log(2.0);
    INFO("t=" << t);
    CHECK_LOG_CLOSE(ts::log_weighted_bernoulli_sf(std::vector<uint64_t>{0, 3000, 1}, t), ref);
  }

  // SynthID-like: 4 layer weights {1, 2, 3, 7} (integerised linspace), many tokens per layer.
  // P(T >= W - s) = P(T <= s) by symmetry. Reference: exact subset counts N(u) = #{outcomes with
  // T = u} for u <= s_max by the counting DP N(u) += N(u - w) in 50 digits (additions only), then
  // P(T <= s) = 2^-C sum_{u <= s} N(u).
  const std::vector<uint64_t> counts = {0, 1200, 900, 900, 0, 0, 0, 600};
  uint64_t total = 0, items = 0;
  for (size_t w = 0; w < counts.size(); ++w) {
    total += w * counts[w];
    items += counts[w];
  }
  const uint64_t s_max = 1500;
  std::vector<Mp> ways(s_max + 1, Mp(0));
  ways[0] = 1;
  for (size_t w = 1; w < counts.size(); ++w)
    for (uint64_t c = 0; c < counts[w]; ++c)
      for (uint64_t u = s_max + 1; u-- > w;) ways[u] += ways[u - w];
  Mp cumulative = 0;
  uint64_t next = 0;
  for (uint64_t s : {0ull, 1ull, 7ull, 60ull, 400ull, 1500ull}) {
    for (; next <= s; ++next) cumulative += ways[next];
    const double ref = static_cast<double>(log(cumulative) - Mp(items) * log(Mp(2)));
    INFO("s=" << s << " ln p ref=" << ref << " (items " << items << ")");
    CHECK_LOG_CLOSE(ts::log_weighted_bernoulli_sf(counts, total - s), ref);
    if (s == 0) CHECK(ref < -2000.0);  // 2^-3600: far below 1e-900
    if (s == 1500) CHECK(ref < std::log(1e-300));
  }
  // Near the centre (complement path) against a full 50-digit DP on a smaller instance.
  const std::vector<uint64_t> small = {0, 40, 30, 0, 10, 0, 0, 5};
  uint64_t w_small = 0;
  for (size_t w = 0; w < small.size(); ++w) w_small += w * small[w];
  std::vector<Mp> full(w_small + 1, Mp(0));
  full[0] = 1;
  for (size_t w = 1; w < small.size(); ++w)
    for (uint64_t c = 0; c < small[w]; ++c)
      for (uint64_t u = w_small + 1; u-- > 0;) full[u] = (u >= w ? full[u] + full[u - w] : full[u]) / 2;
  Mp tail = 0;
  for (uint64_t t = w_small + 1; t-- > 0;) {
    tail += full[t];
    if (t % 7 == 0 || t == w_small / 2 || t == w_small / 2 + 1)
      CHECK_LOG_CLOSE(ts::log_weighted_bernoulli_sf(small, t), static_cast<double>(log(tail)));
  }
}

TEST_CASE("the normal approximation is anti-conservative at small p", "[stats]") {
  // gamma = 0.25 (research notes b.4): a z-test "z >= z0" claims level P(Z >= z0), but the exact
  // false-positive rate is P(Binomial(n, 0.25) >= k0), k0 the smallest count with z >= z0.
  struct Case {
    uint64_t n;
    double z0;
  };
  for (const auto& c : {Case{25, 4.0}, Case{50, 6.0}, Case{1000, 6.0}}) {
    const double g = 0.25;
    uint64_t k0 = 0;
    while (ts::z_score_binomial(k0, c.n, g) < c.z0) ++k0;
    const double exact = ts::log_binomial_sf(k0, c.n, g);
    const double claimed = ts::normal_sf_log(c.z0);
    const double at_obs = ts::normal_sf_log(ts::z_score_binomial(k0, c.n, g));
    // Independent references in 50 digits.
    const double exact_ref = ref_log_binom_sf(k0, c.n, g);
    const double claimed_ref =
        static_cast<double>(log(boost::math::erfc(Mp(c.z0) / boost::multiprecision::sqrt(Mp(2))) / 2));
    CHECK_LOG_CLOSE(exact, exact_ref);
    CHECK_LOG_CLOSE(claimed, claimed_ref);
    const double ratio_ref = std::exp(exact_ref - claimed_ref);
    INFO("n=" << c.n << " z0=" << c.z0 << " k0=" << k0 << ": normal claims " << std::exp(claimed)
              << ", exact false-positive rate " << std::exp(exact) << " (x" << ratio_ref << ")");
    // The exact FPR exceeds the nominal level by the factor the references give, and the test at
    // nominal level P(Z >= z0) would reject at a count the exact test does not find significant.
    CHECK(ratio_ref > 1.0);
    CHECK(std::exp(exact - claimed) >= ratio_ref * (1 - 1e-10));
    CHECK(exact > claimed);
    CHECK(at_obs <= claimed);  // the p the z-test prints for k0 is smaller still
  }
  // normal_sf_log itself, far into the tail (continued fraction branch) and on the left.
  for (double z : {-3.0, 0.0, 1.5, 7.9, 8.0, 12.0, 40.0, 200.0}) {
    INFO("z=" << z);
    const double ref = static_cast<double>(log(boost::math::erfc(Mp(z) / boost::multiprecision::sqrt(Mp(2))) / 2));
    CHECK_LOG_CLOSE(ts::normal_sf_log(z), ref);
  }
}

TEST_CASE("log-space helpers", "[stats]") {
  CHECK(ts::log10_from_ln(std::log(1e-300)) == Approx(-300.0).epsilon(1e-14));
  CHECK(ts::log10_from_ln(-11512.925464970229) == Approx(-5000.0).epsilon(1e-14));
  CHECK(ts::log1m_exp(0.0) == -kInf);
  CHECK(std::isnan(ts::log1m_exp(0.1)));
  CHECK_LOG_CLOSE(ts::log1m_exp(-1e-20), std::log(1e-20));
  CHECK_LOG_CLOSE(ts::log1m_exp(-50.0), -std::exp(-50.0));
  CHECK_LOG_CLOSE(ts::log_add_exp(-10000.0, -10000.0), -10000.0 + std::log(2.0));
  CHECK(ts::log_add_exp(-kInf, -3.0) == -3.0);
  CHECK(ts::z_score_binomial(31, 50, 0.25) == Approx(6.042074698865173).epsilon(1e-12));
}

TEST_CASE("Holm, Bonferroni and Sidak on log p-values", "[stats]") {
  // Hand-worked Holm: p = (0.01, 0.04, 0.03, 0.005), m = 4. Sorted: 0.005, 0.01, 0.03, 0.04 ->
  // 4*0.005 = 0.02, 3*0.01 = 0.03, 2*0.03 = 0.06, 1*0.04 = 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
  const std::vector<double> lp = {std::log(0.01), std::log(0.04), std::log(0.03), std::log(0.005)};
  const auto holm = ts::holm_adjust_log(lp);
  REQUIRE(holm.size() == 4);
  CHECK(std::exp(holm[0]) == Approx(0.03).epsilon(1e-14));
  CHECK(std::exp(holm[1]) == Approx(0.06).epsilon(1e-14));
  CHECK(std::exp(holm[2]) == Approx(0.06).epsilon(1e-14));
  CHECK(std::exp(holm[3]) == Approx(0.02).epsilon(1e-14));
  // Capped at 1, and tiny inputs stay exact: ln(3 * 1e-5000) for the smallest of three.
  const std::vector<double> tiny = {-5000.0 * kLn10, std::log(0.9), std::log(0.5)};
  const auto ht = ts::holm_adjust_log(tiny);
  CHECK_LOG_CLOSE(ht[0], -5000.0 * kLn10 + std::log(3.0));
  CHECK(ht[1] == 0.0);
  CHECK(ht[2] == 0.0);
  // Invalid member -> all NaN.
  const auto bad = ts::holm_adjust_log(std::vector<double>{-1.0, 0.5});
  CHECK((std::isnan(bad[0]) && std::isnan(bad[1])));
  CHECK(ts::holm_adjust_log(std::vector<double>{}).empty());

  CHECK_LOG_CLOSE(ts::bonferroni_log(std::log(1e-9), 25000), std::log(2.5e-5));
  CHECK(ts::bonferroni_log(std::log(0.1), 100) == 0.0);
  CHECK(std::isnan(ts::bonferroni_log(-1.0, 0)));
  const auto bv = ts::bonferroni_adjust_log(lp);
  CHECK(std::exp(bv[3]) == Approx(0.02).epsilon(1e-14));

  // Sidak: 1 - (1 - p)^m, checked in 50 digits, including p = 1e-5000 and moderate p.
  for (auto [p_ln, m] : {std::pair{std::log(0.01), 10ull}, std::pair{std::log(0.3), 3ull},
                         std::pair{std::log(1e-12), 1000000ull}, std::pair{-5000.0 * kLn10, 7ull}}) {
    const Mp p = exp(Mp(p_ln));
    const Mp ref = log(-expm1(Mp(m) * boost::math::log1p(-p)));
    CHECK_LOG_CLOSE(ts::sidak_log(p_ln, m), static_cast<double>(ref));
    CHECK(ts::sidak_log(p_ln, m) <= ts::bonferroni_log(p_ln, m) + 1e-15);
  }
}

TEST_CASE("Fisher's combination against chi-square values", "[stats]") {
  // Chi-square table: the 0.99 quantile with 4 dof is 13.2767, the 0.95 quantile with 10 dof is
  // 18.307. Two (five) equal p-values whose Fisher statistic equals it combine to 0.01 (0.05),
  // up to the 6 printed digits of the table.
  const double p2 = std::exp(-13.2767 / 4.0);
  CHECK(ts::fisher_statistic(std::vector<double>{std::log(p2), std::log(p2)}) == Approx(13.2767).epsilon(1e-12));
  CHECK(std::exp(ts::fisher_combine_log(std::vector<double>{std::log(p2), std::log(p2)})) ==
        Approx(0.01).epsilon(1e-5));
  const std::vector<double> five(5, -18.307 / 10.0);
  CHECK(std::exp(ts::fisher_combine_log(five)) == Approx(0.05).epsilon(2e-5));
  // Closed form for k = 2: P(chi2_4 >= X) = e^(-X/2) (1 + X/2); 0.05 and 0.05 give 0.017479...
  const double s = -2.0 * std::log(0.05);
  CHECK_LOG_CLOSE(ts::fisher_combine_log(std::vector<double>{std::log(0.05), std::log(0.05)}), -s + std::log1p(s));
  // Tiny inputs: three p-values of 1e-5000: k = 3, S = 3 * 5000 ln 10, Q(3, S) = e^-S (1 + S + S^2/2).
  const double S = 15000.0 * kLn10;
  CHECK_LOG_CLOSE(ts::fisher_combine_log(std::vector<double>(3, -5000.0 * kLn10)), -S + std::log1p(S + 0.5 * S * S));
  CHECK(ts::fisher_combine_log(std::vector<double>{0.0, 0.0}) == 0.0);
  CHECK(ts::fisher_combine_log(std::vector<double>{-kInf, -1.0}) == -kInf);
  CHECK(std::isnan(ts::fisher_combine_log(std::vector<double>{})));
  CHECK(std::isnan(ts::fisher_combine_log(std::vector<double>{0.1})));
}

TEST_CASE("windowed search finds a planted passage and corrects for the windows tried", "[stats]") {
  // Portable deterministic uniforms (std::mt19937_64 output is specified by the standard).
  std::mt19937_64 rng(20261122);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const double gamma = 0.25;
  const size_t n = 4000, plant_at = 1700, plant_len = 240;
  std::vector<uint8_t> hits(n);
  for (size_t i = 0; i < n; ++i) {
    const double rate = (i >= plant_at && i < plant_at + plant_len) ? 0.8 : gamma;
    hits[i] = uniform() < rate ? 1 : 0;
  }
  const ts::WindowSearchOptions opts{.min_length = 16, .max_length = 0, .length_ratio = 1.05};
  const auto m = ts::find_best_binomial_window(hits, gamma, opts);
  INFO("start " << m.start << " length " << m.length << " raw " << ts::log10_from_ln(m.log_p) << " corrected "
                << ts::log10_from_ln(m.log_p_corrected) << " windows " << m.windows_tried);
  // The window overlaps most of the passage.
  const double overlap = static_cast<double>(std::min<uint64_t>(m.start + m.length, plant_at + plant_len)) -
                         static_cast<double>(std::max<uint64_t>(m.start, plant_at));
  CHECK(overlap >= 0.8 * plant_len);
  CHECK(static_cast<double>(m.length) <= 1.3 * static_cast<double>(plant_len));
  CHECK(m.log_p_corrected >= m.log_p);
  CHECK(m.log_p_corrected < std::log(1e-30));
  // Corrected = raw + ln(windows tried), and windows tried = sum over the grid of (n - L + 1).
  uint64_t tried = 0;
  for (uint64_t len : ts::window_lengths(n, opts)) tried += n - len + 1;
  CHECK(m.windows_tried == tried);
  CHECK(m.log_p_corrected == Approx(m.log_p + std::log(static_cast<double>(tried))).epsilon(1e-14));
  // The reported raw p is the exact tail of that window.
  const auto k = static_cast<uint64_t>(m.statistic);
  uint64_t k_check = 0;
  for (uint64_t i = m.start; i < m.start + m.length; ++i) k_check += hits[i];
  CHECK(k == k_check);
  CHECK(m.log_p == ts::log_binomial_sf(k, m.length, gamma));
  // The exhaustive grid (ratio 1) can only find an equal or smaller raw p, with a larger multiplier.
  const auto all =
      ts::find_best_binomial_window(hits, gamma, {.min_length = 16, .max_length = 400, .length_ratio = 1.0});
  CHECK(all.lengths_tried == 400 - 16 + 1);
  CHECK(all.log_p <= m.log_p + 1e-12);

  // A null document: the corrected p stays unremarkable while the raw minimum is much smaller.
  std::vector<uint8_t> null_hits(n);
  for (auto& h : null_hits) h = uniform() < gamma ? 1 : 0;
  const auto nm = ts::find_best_binomial_window(null_hits, gamma, opts);
  INFO("null document: raw " << std::exp(nm.log_p) << " corrected " << std::exp(nm.log_p_corrected));
  CHECK(nm.log_p < std::log(0.01));           // the best of 3.4e5 windows looks "significant" ...
  CHECK(nm.log_p_corrected > std::log(0.5));  // ... but not after the correction,
  CHECK(nm.log_p_corrected == std::min(0.0, nm.log_p + std::log(static_cast<double>(nm.windows_tried))));

  // Gamma variant: per-token -ln(1 - r), Exp(1) under H0; a planted passage of Exp(mean 2.5).
  std::vector<double> scores(n);
  for (size_t i = 0; i < n; ++i) {
    const double e = -std::log1p(-uniform());
    scores[i] = (i >= plant_at && i < plant_at + plant_len) ? 2.5 * e : e;
  }
  const auto gm = ts::find_best_gamma_window(scores, opts);
  const double g_overlap = static_cast<double>(std::min<uint64_t>(gm.start + gm.length, plant_at + plant_len)) -
                           static_cast<double>(std::max<uint64_t>(gm.start, plant_at));
  CHECK(g_overlap >= 0.8 * plant_len);
  CHECK(gm.log_p_corrected >= gm.log_p);
  CHECK(gm.log_p_corrected < std::log(1e-30));
  CHECK(gm.log_p == ts::log_gamma_sf(gm.statistic, static_cast<double>(gm.length)));

  // Invalid and degenerate inputs.
  CHECK(std::isnan(ts::find_best_binomial_window(std::vector<uint8_t>{0, 2, 1}, gamma, {.min_length = 1}).log_p));
  CHECK(std::isnan(ts::find_best_binomial_window(hits, 1.5, opts).log_p));
  CHECK(std::isnan(ts::find_best_gamma_window(std::vector<double>{1.0, -0.5}, {.min_length = 1}).log_p));
  const auto short_doc = ts::find_best_binomial_window(std::vector<uint8_t>{1, 1}, gamma, opts);
  CHECK(short_doc.length == 0);
  CHECK(short_doc.log_p_corrected == 0.0);
  CHECK(ts::window_lengths(100, {.min_length = 16, .max_length = 0, .length_ratio = 2.0}) ==
        std::vector<uint64_t>{16, 32, 64, 100});
}

TEST_CASE("the Chernoff bound on the weighted Bernoulli tail is never below the exact tail, and tight at the ends",
          "[stats]") {
  // Brute-force-checked DP values as the reference: small and medium histograms, every threshold.
  const std::vector<std::vector<uint64_t>> configs = {
      {0, 3}, {0, 2, 1, 0, 0, 1}, {0, 1, 2, 3, 2, 1}, {0, 40, 40, 40, 0, 0, 0, 0, 0, 0, 40}, {0, 0, 7, 0, 13}};
  for (const auto& counts : configs) {
    uint64_t total = 0, terms = 0;
    for (size_t w = 0; w < counts.size(); ++w) {
      total += w * counts[w];
      terms += w > 0 ? counts[w] : 0;
    }
    for (uint64_t t = 0; t <= total + 1; ++t) {
      const double exact = ts::log_weighted_bernoulli_sf(counts, t);
      const double bound = ts::log_weighted_bernoulli_sf_bound(counts, t);
      INFO("threshold " << t << " of " << total << ": exact " << exact << ", bound " << bound);
      REQUIRE(bound >= exact - 1e-9 * std::fabs(exact));
      if (2 * t <= total) CHECK(bound == 0.0);
    }
    CHECK(ts::log_weighted_bernoulli_sf_bound(counts, total + 1) == -kInf);
    CHECK_LOG_CLOSE(ts::log_weighted_bernoulli_sf_bound(counts, total), -static_cast<double>(terms) * std::log(2.0));
  }
  // The bound loses only a polynomial factor: at 300 tuples x 30 layers (SynthID's weights), 20 standard deviations
  // out, within a factor 1000 of the exact tail.
  std::vector<uint64_t> synthid(11, 0);
  for (uint32_t l = 0; l < 30; ++l) synthid[telltale::tournament_weight(l, 30)] += 300;
  uint64_t total = 0;
  double var = 0;
  for (size_t w = 0; w < synthid.size(); ++w) {
    total += w * synthid[w];
    var += 0.25 * static_cast<double>(w * w * synthid[w]);
  }
  const auto t = static_cast<uint64_t>(0.5 * static_cast<double>(total) + 20 * std::sqrt(var));
  const double exact = ts::log_weighted_bernoulli_sf(synthid, t);
  const double bound = ts::log_weighted_bernoulli_sf_bound(synthid, t);
  INFO("exact " << exact << ", bound " << bound);
  CHECK(bound >= exact);
  CHECK(bound - exact < std::log(1000.0));
}

TEST_CASE("the weighted-mean weights are SynthID's linspace(10, 1, m) rounded to integers", "[stats]") {
  for (uint32_t m = 2; m <= 32; ++m) {
    for (uint32_t l = 0; l < m; ++l) {
      const double ideal = 10.0 - 9.0 * l / (m - 1);
      CHECK(std::fabs(telltale::tournament_weight(l, m) - ideal) <= 0.5);
    }
    CHECK(telltale::tournament_weight(0, m) == 10);
    CHECK(telltale::tournament_weight(m - 1, m) == 1);
  }
  CHECK(telltale::tournament_weight(0, 1) == 1);
}
