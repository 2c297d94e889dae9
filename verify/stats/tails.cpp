// Exact null-distribution tails in log space: binomial and gamma (the integer-weighted Bernoulli(1/2) tail is in
// weighted_bernoulli.cpp).
//
// Strategy (shared by the binomial and the gamma tails)
// ------------------------------------------------------
// 1. Work on one tail directly and get the other as log1m_exp(...) (Maechler 2012), choosing the
//    direct tail so that it is <= 1/2: then ln(direct) and ln(1 - direct) are both exact to a few
//    ulps, including a result like ln(1 - 1e-300) = -1e-300.
// 2. Evaluate the probability of the boundary point (the binomial pmf at k, or the Poisson-like
//    "pmf" x^a e^-x / Gamma(a+1) for the gamma) directly in log space with Loader's saddle-point
//    form (C. Loader, "Fast and accurate computation of binomial probabilities", 2000): it splits
//    ln pmf into Stirling remainders (tiny, accurate), two deviance terms bd0(x, M) = x ln(x/M) + M - x
//    computed without cancellation, and a 1/2 ln(2 pi ...) term. Unlike lgamma differences (whose
//    absolute error grows like eps * n ln n, i.e. ~1e-4 for n = 1e11), its absolute error in the log
//    is a few ulps of the result itself, so p keeps ~1e-14 relative accuracy even at n = 1e11.
// 3. Tail = boundary_pmf * S, S = sum_j prod_{i<j} r_i, where r_i is the ratio of successive terms
//    moving away from the mode. Those ratios are < 1 and *decrease* as we move away (the pmfs are
//    log-concave), so S (between 1 and 1/(1 - r_0)) is summed in plain doubles with the rigorous
//    stopping rule "remainder <= term * r / (1 - r) < 1e-17 S". Every 2048 terms the running
//    product is re-anchored to exp(ln pmf(j) - ln pmf(k)) from step 2, so rounding (including the
//    systematic error of a rounded p/(1-p)) cannot drift over long sums. ln tail = ln pmf + ln S is
//    exact to ~1e-13 relative for any tail size, 1e-5000 included.
//    Cost: ~39 / (1 - r_0) terms, and never more than ~9 standard deviations' worth (the terms
//    decay at least like a Gaussian): ~1.4e6 cheap iterations (a few ms) at n = 1e11 next to the
//    mean, ~2e5 at the 1e-300 level, and fewer the further out the tail.
// 4. Where it is verified accurate, Boost's regularized incomplete beta / gamma (ibeta, ibetac,
//    gamma_p, gamma_q) is used instead, because it is cheaper near the mean: only when the boundary
//    pmf is >= e^-600 (so the tail is a normal double) and n <= 1e7 (binomial) or, for the gamma,
//    shape <= 1e7 or |x - shape| <= 4 sqrt(shape) (Boost switches to Temme's uniform asymptotic
//    expansion there). Outside those ranges we measured Boost 1.74's relative error growing with the
//    size parameter (6e-11 for ibeta at n = 1e10, p = 0.9; 4e-11 for gamma_q at shape 1e9, 30 sd
//    out), because its prefix x^a (1-x)^b / B(a, b) loses ~a ulps; step 3 has no such growth.
#include "stats/tails.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>
#include <vector>

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace telltale::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLn2 = std::numbers::ln2;
constexpr double kLn2Pi = 1.8378770664093454836;       // ln(2 pi)
constexpr double kLnSqrt2Pi = 0.91893853320467274178;  // ln(sqrt(2 pi))

// Boost is only considered when the boundary log-pmf is at least this (the tail is then a normal
// double, >= e^-600); below it the log-space series always runs (steps 3 and 4 above).
constexpr double kSeriesLogPmf = -600.0;
// Relative truncation error of the ratio series (below one ulp of S).
constexpr double kSeriesTol = 1e-17;
// Re-anchor the running product of ratios this often (step 3 above).
constexpr int kAnchorEvery = 2048;
// Largest n (binomial) / shape (gamma) for which Boost's double-precision result is trusted everywhere.
constexpr double kBoostMaxSize = 1e7;
// Beyond this many series terms (~20-50 ms) we accept Boost instead, if its result is a normal
// double: only reached next to the mean for n or shape above ~1e12 (see tails.hpp).
constexpr double kMaxSeriesTerms = 1e7;

// Terms the ratio series needs to reach kSeriesTol when its first ratio is r0 (terms decay at
// least geometrically, ~39 / (1 - r0), and at least like a Gaussian of the given sd, ~9 sd).
double series_terms(double r0, double sd) { return std::min(39.0 / (1.0 - r0), 9.0 * sd + 50.0); }

// Boost must never throw or abort from here: expected conditions are NaN (see tails.hpp).
using NoThrowPolicy =
    boost::math::policies::policy<boost::math::policies::domain_error<boost::math::policies::ignore_error>,
                                  boost::math::policies::pole_error<boost::math::policies::ignore_error>,
                                  boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
                                  boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
                                  boost::math::policies::denorm_error<boost::math::policies::ignore_error>,
                                  boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
                                  boost::math::policies::rounding_error<boost::math::policies::ignore_error>>;

// ln(n!) - [(n + 1/2) ln n - n + ln sqrt(2 pi)] for n = 1..15 (computed with mpmath at 40 digits).
constexpr double kStirlerrTable[15] = {
    8.106146679532725822e-2,  4.1340695955409294094e-2, 2.7677925684998339149e-2, 2.0790672103765093112e-2,
    1.6644691189821192163e-2, 1.3876128823070747999e-2, 1.1896709945891770095e-2, 1.0411265261972096497e-2,
    9.2554621827127329177e-3, 8.3305634333628712565e-3, 7.573675487951840795e-3,  6.9428401072095298657e-3,
    6.4089941880042070684e-3, 5.9513701127588477356e-3, 5.554733551962801371e-3,
};

// Stirling remainder delta(n) = ln Gamma(n + 1) - (n + 1/2) ln n + n - ln sqrt(2 pi) (Loader eq. 4).
// Table for small integers, lgamma for other small n (absolute error ~1e-15), and the asymptotic
// series 1/(12n) - 1/(360n^3) + ... for n > 15 (truncation error < 1e-17 there).
double stirlerr(double n) {
  if (n <= 15.0) {
    if (n >= 1.0 && n == std::floor(n)) return kStirlerrTable[static_cast<int>(n) - 1];
    return std::lgamma(n + 1.0) - (n + 0.5) * std::log(n) + n - kLnSqrt2Pi;
  }
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  const double nn = n * n;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

// Deviance term bd0(x, M) = x ln(x/M) + M - x >= 0 (Loader 2000, Sec. 2), where the caller passes
// d = x - M accurately (so no cancellation hides in it) and log_m = ln M (used when M is so small
// that x/M would overflow, e.g. p = 1e-300). For |v| < 1/2, v = d/(x+M), it uses the series
// bd0 = d v + 2x (v^3/3 + v^5/5 + ...) (ratio v^2 <= 1/4: <= 28 terms). Loader switches at
// |v| = 0.1, but between 0.1 and 0.5 the direct form x ln(x/M) - d cancels up to ~10x and its
// absolute error ~ x ulps (3e-12 at x = 3e4) shows directly in p; the series has none of that.
// Beyond |v| = 1/2 the direct form is well conditioned (|result| >= 0.4 x).
double bd0(double x, double m, double d, double log_m) {
  if (std::fabs(d) < 0.5 * (x + m)) {
    const double v = d / (x + m);
    const double v2 = v * v;
    double s = d * v;
    double ej = 2.0 * x * v;
    for (int j = 1; j < 200; ++j) {
      ej *= v2;
      const double s1 = s + ej / (2 * j + 1);
      if (s1 == s) return s1;
      s = s1;
    }
    return s;
  }
  const double ratio = x / m;
  const double lr = (m > 1e-250 && ratio < 1e300) ? std::log(ratio) : std::log(x) - log_m;
  return x * lr - d;
}

// Error-free transformation a + b = s + e (Knuth's TwoSum).
std::pair<double, double> two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  return {s, e};
}

// ln S, S = sum_{j>=0} t_j, t_0 = 1, t_{j+1} = t_j * ratio(j), where 0 < ratio(j) < 1 decreases in j.
// Stops when the remainder (<= t_j r / (1 - r) since later ratios are smaller) is below
// kSeriesTol * S, or after max_j terms. Every kAnchorEvery terms t_j is recomputed as
// exp(log_term(j)) from the independent saddle-point log-pmf (step 3 in the header comment).
// The sum is compensated (Neumaier; every term is <= the running sum) so that ~1e6 additions
// do not cost ~1e6 ulps in the worst case.
template <class Ratio, class LogTerm>
double log_monotone_sum(Ratio ratio, LogTerm log_term, double max_j) {
  double sum = 1.0, comp = 0.0, term = 1.0;
  int since_anchor = 0;
  for (double j = 0.0; j < max_j;) {
    const double r = ratio(j);
    j += 1.0;
    term *= r;
    if (++since_anchor == kAnchorEvery) {
      since_anchor = 0;
      term = std::exp(log_term(j));
    }
    const double t = sum + term;
    comp += (sum - t) + term;
    sum = t;
    if (term * r <= (1.0 - r) * sum * kSeriesTol) break;
  }
  return std::log(sum + comp);
}

// a / b as an unevaluated double-double (hi + lo), where the numerator is a_hi + a_lo.
// Used for the binomial odds p/q and q/p, whose rounding would otherwise be the same in every
// ratio and add up (systematically) over the terms between two anchors.
std::pair<double, double> dd_div(double a_hi, double a_lo, double b_hi, double b_lo) {
  const double hi = a_hi / b_hi;
  const double resid = std::fma(-hi, b_hi, a_hi);  // a_hi - hi * b_hi, exactly
  return {hi, (resid + a_lo - hi * b_lo) / b_hi};
}

// Everything the binomial tails need about (n, p), computed once.
struct Binom {
  double n = 0, p = 0, q = 0;  // q = 1 - p (exact when p >= 1/2, else within 1/2 ulp)
  double log_p = 0, log_q = 0, log_n = 0;
  double mp_hi = 0, mp_lo = 0;               // n p as an unevaluated double-double sum
  double mq = 0;                             // n q (relative accuracy suffices)
  double q_lo = 0;                           // 1 - p = q + q_lo exactly
  std::pair<double, double> odds, inv_odds;  // p/q and q/p as double-doubles

  Binom(double n_in, double p_in) : n(n_in), p(p_in), q(1.0 - p_in) {
    q_lo = two_sum(1.0, -p).second;
    odds = dd_div(p, 0.0, q, q_lo);
    inv_odds = dd_div(q, q_lo, p, 0.0);
    log_p = std::log(p);
    log_q = std::log1p(-p);
    log_n = std::log(n);
    if (p <= 0.5) {  // p exact: n p = hi + lo exactly via fma
      mp_hi = n * p;
      mp_lo = std::fma(n, p, -mp_hi);
      mq = (n - mp_hi) - mp_lo;
    } else {  // q exact (Sterbenz): n p = n - n q
      const double nq_hi = n * q;
      const double nq_lo = std::fma(n, q, -nq_hi);
      const auto [s, e] = two_sum(n, -nq_hi);
      mp_hi = s;
      mp_lo = e - nq_lo;
      mq = nq_hi + nq_lo;
    }
  }
  double mean() const { return mp_hi + mp_lo; }
  // k - n p, accurate to an ulp of the result even when k ~ n p.
  double deviation(double k) const {
    const auto [s, e] = two_sum(k, -mp_hi);
    return s + (e - mp_lo);
  }

  // ln P(X = k) (Loader 2000, eq. 6/7):
  // ln pmf = delta(n) - delta(k) - delta(n-k) - bd0(k, np) - bd0(n-k, nq) - 1/2 ln(2 pi k (n-k)/n).
  double log_pmf(double k) const {
    if (k == 0) return n * log_q;
    if (k == n) return n * log_p;
    const double d = deviation(k);  // (n - k) - n q = -(k - n p) exactly
    const double lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, mean(), d, log_n + log_p) -
                      bd0(n - k, mq, -d, log_n + log_q);
    // ln((n - k)/n): log1p(-k/n) (Loader's form) is exact for small k/n but loses ~n ulps when
    // k is close to n, where (n - k)/n is exact instead.
    const double log_frac = 2.0 * k < n ? std::log1p(-k / n) : std::log((n - k) / n);
    const double lf = kLn2Pi + std::log(k) + log_frac;
    return lc - 0.5 * lf;
  }

  // Boost's ibeta/ibetac is used for small n (verified to ~1e-13 up to n = 1e7) and when the
  // series would be too long (n above ~1e12, next to the mean); r0 is the series' first ratio.
  bool use_boost(double lpmf, double r0) const {
    return lpmf >= kSeriesLogPmf && (n <= kBoostMaxSize || series_terms(r0, std::sqrt(n * p * q)) > kMaxSeriesTerms);
  }

  // ln P(X >= k) computed directly; the series needs k > n p - q (ratios below 1):
  // pmf(j+1)/pmf(j) = (n - j)/(j + 1) * p/q.
  double upper_direct(double k) const {
    const double lpmf = log_pmf(k);
    if (use_boost(lpmf, (n - k) / (k + 1.0) * odds.first))
      return std::log(boost::math::ibeta(k, n - k + 1.0, p, NoThrowPolicy()));
    const double rho = odds.first, rho_lo = odds.second;  // not a structured binding: clang 14 cannot capture those
    auto ratio = [&](double j) {
      const double base = (n - k - j) / (k + j + 1.0);
      return std::fma(base, rho, base * rho_lo);
    };
    auto log_term = [&](double j) { return log_pmf(k + j) - lpmf; };
    return lpmf + log_monotone_sum(ratio, log_term, n - k);
  }

  // ln P(X <= k) computed directly; the series needs k < (n + 1) p:
  // pmf(j-1)/pmf(j) = j/(n - j + 1) * q/p.
  double lower_direct(double k) const {
    const double lpmf = log_pmf(k);
    if (use_boost(lpmf, k / (n - k + 1.0) * inv_odds.first))
      return std::log(boost::math::ibetac(k + 1.0, n - k, p, NoThrowPolicy()));
    const double rho = inv_odds.first, rho_lo = inv_odds.second;
    auto ratio = [&](double j) {
      const double base = (k - j) / (n - k + j + 1.0);
      return std::fma(base, rho, base * rho_lo);
    };
    auto log_term = [&](double j) { return log_pmf(k - j) - lpmf; };
    return lpmf + log_monotone_sum(ratio, log_term, k);
  }

  // ln P(X >= k) for 1 <= k <= n, 0 < p < 1. For k <= n p the lower tail P(X <= k-1) is <= 1/2
  // (the binomial median is >= floor(n p); Kaas & Buhrman 1980), so it is the direct one; for
  // k > n p the upper tail is, except at k = ceil(n p) where it can exceed 1/2 (p near 1, small
  // n), in which case k - 1 = floor(n p) and the lower tail is again <= 1/2.
  double log_sf(double k) const {
    if (k > mean()) {
      const double v = upper_direct(k);
      if (v <= -kLn2) return v;
    }
    return log1m_exp(lower_direct(k - 1.0));
  }

  // ln P(X <= k) for 0 <= k < n, 0 < p < 1 (mirror image of log_sf).
  double log_cdf(double k) const {
    if (k < mean()) {
      const double v = lower_direct(k);
      if (v <= -kLn2) return v;
    }
    return log1m_exp(upper_direct(k + 1.0));
  }
};

bool valid_probability(double p) { return p >= 0.0 && p <= 1.0; }  // false for NaN

// ---- Gamma(a, 1) --------------------------------------------------------------------------------

// ln[x^a e^-x / Gamma(a + 1)] (the "Poisson pmf at a with mean x"), in Loader's form:
// -delta(a) - bd0(a, x) - 1/2 ln(2 pi a). Accurate to a few ulps of the result for huge a.
double log_gamma_boundary(double a, double x) {
  return -stirlerr(a) - bd0(a, x, a - x, std::log(x)) - 0.5 * (kLn2Pi + std::log(a));
}

// Boost's gamma_p/gamma_q is trusted for small shapes, and near the mean where it uses Temme's
// uniform asymptotic expansion (Boost switches to it for (x - a)^2 < 20 a; we stay inside 16 a);
// it is also accepted when the series would be too long (shape above ~1e12).
bool boost_gamma_trusted(double a, double x, double lb) {
  if (lb < kSeriesLogPmf) return false;
  if (a <= kBoostMaxSize || (x - a) * (x - a) <= 16.0 * a) return true;
  const double r0 = x > a ? (a - 1.0) / x : x / (a + 1.0);
  return series_terms(r0, std::sqrt(a)) > kMaxSeriesTerms;
}

bool normal_positive(double v) { return v >= std::numeric_limits<double>::min() && v <= 1.0; }

// ln Q(a, x) for x > a (then Q < 1/2: the gamma median is below the mean), directly.
// Q(a, x) = x^(a-1) e^-x / Gamma(a) * sum_j t_j, t_0 = 1, t_j = t_{j-1} (a - j)/x (DLMF 8.11.2;
// finite and exact for integer a, asymptotic otherwise). Reached only for x > a: the terms first
// decrease (ratios (a - j)/x < 1, decreasing), and past j > a alternate with magnitudes that are
// far below the tolerance long before the asymptotic series would turn (at j ~ a + x), as x is
// at least in the hundreds whenever Boost is not used. Re-anchored like log_monotone_sum while
// a - 1 - j > 0, using t_j = exp(b(a-1-j) - b(a-1)) with b(c) = ln[x^c e^-x / Gamma(c+1)].
double gamma_upper_direct(double a, double x) {
  const double lb = log_gamma_boundary(a, x);
  if (boost_gamma_trusted(a, x, lb)) {
    const double q = boost::math::gamma_q(a, x, NoThrowPolicy());
    if (normal_positive(q)) return std::log(q);
  }
  const double lb_am1 = a > 1.0 ? log_gamma_boundary(a - 1.0, x) : 0.0;
  double sum = 1.0, comp = 0.0, term = 1.0;
  int since_anchor = 0;
  for (double j = 1.0;; j += 1.0) {
    const double r = (a - j) / x;
    term *= r;
    if (term == 0.0) break;  // integer a: the sum is finite and exact
    if (++since_anchor == kAnchorEvery) {
      since_anchor = 0;
      if (a - 1.0 - j > 0.0) term = std::exp(log_gamma_boundary(a - 1.0 - j, x) - lb_am1);
    }
    const double t = sum + term;  // Neumaier: |term| <= sum here
    comp += (sum - t) + term;
    sum = t;
    if (r > 0.0) {
      if (term * r <= (1.0 - r) * sum * kSeriesTol) break;  // remainder <= term r / (1 - r)
    } else if (std::fabs(term) <= sum * kSeriesTol || std::fabs(r) >= 1.0) {
      break;  // alternating tail bounded by the first omitted term
    }
  }
  // x^(a-1) e^-x / Gamma(a) = (a / x) e^lb.
  return std::log(a) - std::log(x) + lb + std::log(sum + comp);
}

// ln P(a, x) directly, for x <= a (series valid for any x, ratios < 1 when x < a + 1).
// P(a, x) = x^a e^-x / Gamma(a+1) * sum_j x^j / ((a+1)...(a+j)) (DLMF 8.7.1).
double gamma_lower_direct(double a, double x) {
  const double lb = log_gamma_boundary(a, x);
  if (boost_gamma_trusted(a, x, lb)) {
    const double p = boost::math::gamma_p(a, x, NoThrowPolicy());
    if (normal_positive(p)) return std::log(p);
  }
  auto ratio = [&](double j) { return x / (a + j + 1.0); };
  auto log_term = [&](double j) { return log_gamma_boundary(a + j, x) - lb; };
  return lb + log_monotone_sum(ratio, log_term, kInf);
}

// ln Q(a, x) for x <= a when P(a, x) > 1/2 (x between the median and the mean, |x - a| < 1/3 + ...):
// inside Boost's Temme region, or a small shape, where Boost is accurate.
double gamma_upper_near_mean(double a, double x) { return std::log(boost::math::gamma_q(a, x, NoThrowPolicy())); }

bool valid_shape(double a) { return a > 0.0 && std::isfinite(a); }

}  // namespace

// ---- public API ---------------------------------------------------------------------------------

double log1m_exp(double a) noexcept {
  if (std::isnan(a) || a > 0.0) return kNaN;
  // Maechler (2012): log(-expm1(a)) near 0, log1p(-exp(a)) further out, switching at -ln 2.
  return a > -kLn2 ? std::log(-std::expm1(a)) : std::log1p(-std::exp(a));
}

double log_add_exp(double a, double b) noexcept {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  if (a < b) std::swap(a, b);
  if (b == -kInf) return a;
  if (a == kInf) return kInf;
  return a + std::log1p(std::exp(b - a));
}

double log10_from_ln(double ln_value) noexcept { return ln_value * std::numbers::log10e; }

double log_binomial_pmf(uint64_t k, uint64_t n, double p) noexcept {
  if (!valid_probability(p) || n > kMaxExactCount) return kNaN;
  if (k > n) return -kInf;
  if (p == 0.0) return k == 0 ? 0.0 : -kInf;
  if (p == 1.0) return k == n ? 0.0 : -kInf;
  return Binom(static_cast<double>(n), p).log_pmf(static_cast<double>(k));
}

double log_binomial_sf(uint64_t k, uint64_t n, double p) noexcept {
  if (!valid_probability(p) || n > kMaxExactCount) return kNaN;
  if (k == 0) return 0.0;
  if (k > n) return -kInf;
  if (p == 0.0) return -kInf;  // X = 0 surely, and k >= 1
  if (p == 1.0) return 0.0;    // X = n >= k surely
  return Binom(static_cast<double>(n), p).log_sf(static_cast<double>(k));
}

double log_binomial_cdf(uint64_t k, uint64_t n, double p) noexcept {
  if (!valid_probability(p) || n > kMaxExactCount) return kNaN;
  if (k >= n) return 0.0;
  if (p == 0.0) return 0.0;
  if (p == 1.0) return -kInf;  // X = n > k surely
  return Binom(static_cast<double>(n), p).log_cdf(static_cast<double>(k));
}

double log_gamma_sf(double x, double shape) noexcept {
  if (std::isnan(x) || !valid_shape(shape)) return kNaN;
  if (x <= 0.0) return 0.0;
  if (x == kInf) return -kInf;
  if (x > shape) return gamma_upper_direct(shape, x);
  const double lower = gamma_lower_direct(shape, x);
  return lower <= -kLn2 ? log1m_exp(lower) : gamma_upper_near_mean(shape, x);
}

double log_gamma_cdf(double x, double shape) noexcept {
  if (std::isnan(x) || !valid_shape(shape)) return kNaN;
  if (x <= 0.0) return -kInf;
  if (x == kInf) return 0.0;
  if (x > shape) return log1m_exp(gamma_upper_direct(shape, x));
  const double lower = gamma_lower_direct(shape, x);
  return lower <= -kLn2 ? lower : log1m_exp(gamma_upper_near_mean(shape, x));
}

double z_score_binomial(uint64_t k, uint64_t n, double p) noexcept {
  if (!(p > 0.0 && p < 1.0) || n == 0) return kNaN;
  const double nd = static_cast<double>(n);
  return (static_cast<double>(k) - nd * p) / std::sqrt(nd * p * (1.0 - p));
}

double normal_sf_log(double z) noexcept {
  if (std::isnan(z)) return kNaN;
  if (z == kInf) return -kInf;
  if (z < 0.0) return std::log1p(-0.5 * std::erfc(-z / std::numbers::sqrt2));
  if (z < 8.0) return std::log(0.5 * std::erfc(z / std::numbers::sqrt2));
  // Laplace's continued fraction for the Mills ratio, Q(z) = phi(z) / (z + 1/(z + 2/(z + 3/(z + ...)))),
  // evaluated bottom-up; 80 levels are ample for z >= 8 (terms shrink like k/z^2).
  double f = z;
  for (int i = 80; i >= 1; --i) f = z + i / f;
  return -0.5 * z * z - kLnSqrt2Pi - std::log(f);
}

}  // namespace telltale::stats
