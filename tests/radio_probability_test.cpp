// The probability score's null: the weighted Bernoulli(q) tail against enumeration, the grid and Chernoff tails never
// below the exact one, the p-value against simulation (Clopper-Pearson), and a suspect that never saw the key.
#include <boost/math/distributions/binomial.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "radio/probability_score.hpp"
#include "radio/suspect_scorer.hpp"
#include "stats/probability_null.hpp"
#include "stats/tails.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::radio;

namespace {

// ln P(sum w_i B_i >= s), B_i ~ Bernoulli(q), by enumerating all 2^n outcomes.
double enumerated_tail(const std::vector<double>& w, double q, double s) {
  double p = 0, below = 0;  // both sides, so that a tail near 1 is taken as 1 - (the small side) without cancellation
  for (uint32_t mask = 0; mask < (1u << w.size()); ++mask) {
    double sum = 0, prob = 1;
    for (size_t i = 0; i < w.size(); ++i) {
      const bool one = (mask >> i & 1u) != 0;
      sum += one ? w[i] : 0;
      prob *= one ? q : 1 - q;
    }
    (sum >= s - 1e-12 ? p : below) += prob;
  }
  return p < 0.5 ? std::log(p) : std::log1p(-below);
}

std::vector<stats::WeightedTerm> terms_of(const std::vector<double>& w) {
  std::vector<stats::WeightedTerm> t;
  for (double x : w) t.push_back({x, 1});
  return t;
}

}  // namespace

TEST_CASE("the integer-weighted Bernoulli(q) tail equals enumeration for q other than one half", "[radio][stats]") {
  const std::vector<uint64_t> weights = {1, 3, 3, 4, 7, 2, 5, 1, 6, 2, 3, 8};
  std::vector<uint64_t> count_by_weight(9, 0);
  std::vector<double> w;
  for (uint64_t x : weights) {
    ++count_by_weight[x];
    w.push_back(static_cast<double>(x));
  }
  for (double q : {0.25, 0.1, 0.5, 0.8}) {
    for (uint64_t t = 1; t <= 45; t += 4) {
      INFO("q = " << q << ", threshold " << t);
      const double exact = enumerated_tail(w, q, static_cast<double>(t));
      CHECK(stats::log_weighted_bernoulli_sf(count_by_weight, t, q) == Approx(exact).epsilon(1e-9));
      CHECK(stats::log_weighted_bernoulli_sf_bound(count_by_weight, t, q) >= exact - 1e-12);
    }
  }
}

TEST_CASE("the probability-weighted tail, exact on a grid or Chernoff, is never below the exact tail",
          "[radio][stats]") {
  std::mt19937_64 rng(20261206);
  std::uniform_real_distribution<double> u(0.001, 1.0);
  std::vector<double> w(16);
  for (double& x : w) x = u(rng);
  double total = 0;
  for (double x : w) total += x;
  for (double q : {0.25, 0.5}) {
    for (double frac : {0.3, 0.5, 0.7, 0.9}) {
      const double s = frac * total;
      const double exact = enumerated_tail(w, q, s);
      INFO("q = " << q << ", s = " << s << ", exact ln p = " << exact);
      const stats::TailBound b = stats::weighted_bernoulli_tail(terms_of(w), q, s, 1e9);
      CHECK(b.log_p >= exact - 1e-12);
      CHECK(b.method == (b.log_p == 0 ? stats::TailMethod::kChernoff : stats::TailMethod::kExactGrid));
      CHECK(b.log_p <= exact + 0.05);  // the 1/65536 grid costs little
      CHECK(stats::log_weighted_bernoulli_chernoff(terms_of(w), q, s) >= exact - 1e-12);
    }
  }
}

TEST_CASE("the probability-score p-value holds against simulation within a Clopper-Pearson bound", "[radio][stats]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const double q = 0.25;
  std::vector<double> w(300);
  for (double& x : w) x = std::pow(u(rng), 3);  // mostly small probabilities, a few large
  const auto terms = terms_of(w);
  double mean = 0;
  for (double x : w) mean += q * x;
  constexpr int kDraws = 20000;
  std::vector<double> sums(kDraws);
  std::bernoulli_distribution green(q);
  for (double& s : sums) {
    s = 0;
    for (double x : w)
      if (green(rng)) s += x;
  }
  for (double shift : {0.0, 2.0, 4.0, 6.0}) {
    const double s = mean + shift;
    const int count = static_cast<int>(std::count_if(sums.begin(), sums.end(), [&](double v) { return v >= s; }));
    const stats::TailBound b = stats::weighted_bernoulli_tail(terms, q, s, 2e8);
    const double p = std::exp(b.log_p);
    // The p-value may be conservative, never too small: the count of simulated sums at or above s must not be
    // significantly above kDraws p (one-sided Clopper-Pearson at 1e-6).
    const double lower = boost::math::binomial_distribution<>::find_lower_bound_on_p(kDraws, count, 1e-6);
    INFO("s = " << s << ": " << count << " of " << kDraws << " draws, p-value " << p << " (grid " << b.grid << ")");
    CHECK(p >= lower);
    CHECK(p <= 1.0);
  }
}

TEST_CASE("a suspect that never saw the key is detected at 1e-3 no more often than 200 fair trials allow",
          "[radio][stats]") {
  // One suspect, its probability-weighted predictions fixed by seed; 200 keys it never saw.
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int32_t> id(0, 511);
  std::exponential_distribution<double> e(1.0);
  PredictionRecord r;
  for (int i = 0; i < 400; ++i) r.ids.push_back(id(rng));
  for (uint32_t p = 1; p <= r.ids.size(); ++p) {
    r.positions.push_back(p);
    std::vector<int32_t> top;
    std::vector<double> mass;
    double total = 0;
    while (top.size() < 8) {
      const int32_t t = id(rng);
      if (std::find(top.begin(), top.end(), t) != top.end()) continue;
      top.push_back(t);
      mass.push_back(std::pow(e(rng), 2));
      total += mass.back();
    }
    std::vector<std::pair<double, int32_t>> sorted;
    for (size_t k = 0; k < top.size(); ++k) sorted.push_back({mass[k] / (total * 1.25), top[k]});  // 20% missing
    std::sort(sorted.rbegin(), sorted.rend());
    std::vector<float> lp;
    top.clear();
    for (const auto& [m, t] : sorted) {
      top.push_back(t);
      lp.push_back(static_cast<float>(std::log(m)));
    }
    r.predicted.push_back(top);
    r.logprobs.push_back(lp);
  }
  int detected = 0;
  for (int k = 0; k < 200; ++k) {
    const KeyRing key = test::fixed_key(static_cast<uint8_t>(k));
    const Detector det = test::make_detector(key, SchemeKind::kKgw);
    SuspectRules rules;
    rules.max_rank = 64;
    rules.probability = true;
    auto scorer = SuspectScorer::create(det, rules);
    REQUIRE(scorer.is_ok());
    scorer->add(r);
    const ProbabilityEvidence pe = scorer->probability_evidence();
    REQUIRE(pe.tuples > 0);
    if (pe.log_p <= std::log(1e-3)) ++detected;
  }
  // P(Binomial(200, 1e-3) >= 4) < 6e-5: more than 3 detections means the null is too liberal.
  const double tail = 1 - boost::math::cdf(boost::math::binomial_distribution<>(200, 1e-3), 3.0);
  REQUIRE(tail < 1e-4);
  CHECK(detected <= 3);
}
