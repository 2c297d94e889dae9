// The model-aware tests' nulls: the weighted detection tail against a simulation of its law, the real detector's
// p-values over many keys on human text, and the weighted account tail against enumeration.
#include <boost/math/special_functions/beta.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "attrib/weighted_match_null.hpp"
#include "input/tokenizer.hpp"
#include "model/position_weights.hpp"
#include "model/weighted_detection.hpp"
#include "stats/probability_null.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "test_paths.hpp"

using namespace telltale;

namespace {

constexpr double kCheckLevel = 1e-6;  // each Clopper-Pearson check below fails by chance with probability <= this

// Clopper-Pearson interval for `count` successes in `n` at two-sided level `level`.
std::pair<double, double> clopper_pearson(uint64_t count, uint64_t n, double level) {
  const double c = static_cast<double>(count), m = static_cast<double>(n);
  const double lower = count == 0 ? 0.0 : boost::math::ibeta_inv(c, m - c + 1, level / 2);
  const double upper = count == n ? 1.0 : boost::math::ibeta_inv(c + 1, m - c, 1 - level / 2);
  return {lower, upper};
}

// ~400 ids of Austen (human text), tokenized with tok512.
std::vector<int32_t> human_ids() {
  auto tok = input::Tokenizer::load(test::model_file("tok512.model"));
  REQUIRE(tok.is_ok());
  const std::string text =
      "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want "
      "of a wife. However little known the feelings or views of such a man may be on his first entering a "
      "neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered "
      "the rightful property of some one or other of their daughters. My dear Mr. Bennet, said his lady to him one "
      "day, have you heard that Netherfield Park is let at last? Mr. Bennet replied that he had not.";
  std::vector<int32_t> ids;
  REQUIRE(tok->encode(text, ids).is_ok());
  return ids;
}

model::PositionWeigher stories_weigher(const SchemeParams& params) {
  auto w = model::PositionWeigher::create(test::model_file("stories260K.bin"), 512, {}, model::is_red_green(params),
                                          model::detection_shape(params));
  INFO(w.status().message());
  REQUIRE(w.is_ok());
  return std::move(w).value();
}

KeyRing key_of(uint64_t seed) {
  std::vector<uint8_t> secret(32);
  std::mt19937_64 rng(seed);
  for (auto& b : secret) b = static_cast<uint8_t>(rng());
  return std::move(KeyRing::from_secret(secret)).value();
}

}  // namespace

TEST_CASE("the weighted null's tail on the model's weights agrees with a simulation of the weighted sum",
          "[model-aware]") {
  const SchemeParams params = default_params(SchemeKind::kKgw, 512);
  model::PositionWeigher weigher = stories_weigher(params);
  const std::vector<int32_t> ids = human_ids();
  std::vector<uint32_t> units;
  weigher.weigh(ids, units);
  std::vector<stats::WeightedTerm> terms;
  std::vector<double> weights;
  double mean = 0, variance = 0;
  const double q = 0.25;
  for (const uint32_t u : units) {
    if (u == 0) continue;
    const double w = static_cast<double>(u) / model::kWeightGrid;
    terms.push_back({w, 1});
    weights.push_back(w);
    mean += q * w;
    variance += q * (1 - q) * w * w;
  }
  REQUIRE(weights.size() > 50);
  // Draws of S = sum w_i B_i, B_i ~ Bernoulli(1/4), with a fixed seed.
  constexpr uint64_t kDraws = 200000;
  std::mt19937_64 rng(20261206);
  std::bernoulli_distribution bit(q);
  std::vector<double> draws(kDraws);
  for (double& s : draws) {
    s = 0;
    for (const double w : weights) s += bit(rng) ? w : 0.0;
  }
  for (const double z : {1.0, 2.0, 3.0}) {
    // A threshold on the grid of attainable sums (a multiple of 1/64), about z standard deviations above the mean.
    const double threshold = std::ceil((mean + z * std::sqrt(variance)) * model::kWeightGrid) / model::kWeightGrid;
    uint64_t count = 0;
    for (const double s : draws) count += s >= threshold - 1e-9 ? 1 : 0;
    const stats::TailBound tail = stats::weighted_bernoulli_tail(terms, q, threshold, 2e8);
    const auto [lower, upper] = clopper_pearson(count, kDraws, kCheckLevel);
    INFO("z " << z << ": simulated " << count << " / " << kDraws << ", tail " << std::exp(tail.log_p) << " ("
              << (tail.method == stats::TailMethod::kExactGrid ? "exact grid" : "Chernoff") << ")");
    CHECK(tail.method == stats::TailMethod::kExactGrid);
    CHECK(std::exp(tail.log_p) >= lower);
    CHECK(std::exp(tail.log_p) <= upper);
  }
}

TEST_CASE("model-aware p-values of human text over many keys are not below uniform", "[model-aware]") {
  const SchemeParams params = default_params(SchemeKind::kKgw, 512);
  model::PositionWeigher weigher = stories_weigher(params);
  const std::vector<int32_t> ids = human_ids();
  std::vector<uint32_t> units;
  weigher.weigh(ids, units);
  constexpr uint64_t kKeys = 200;
  uint64_t below_tenth = 0, below_half = 0;
  for (uint64_t k = 0; k < kKeys; ++k) {
    auto detector = Detector::create(key_of(1000 + k), params);
    REQUIRE(detector.is_ok());
    const Detector* one = &*detector;
    auto weighted = model::WeightedDetection::create(std::span(&one, 1), true);
    REQUIRE(weighted.is_ok());
    const double log_p = weighted->add_document(ids, 0, units).by_key[0].log_p;
    below_tenth += log_p <= std::log(0.1) ? 1 : 0;
    below_half += log_p <= std::log(0.5) ? 1 : 0;
  }
  // A valid p-value is super-uniform: P(p <= a) <= a. The count may fall short (the tail is conservative), never over.
  INFO(below_tenth << " of " << kKeys << " keys at p <= 0.1, " << below_half << " at p <= 0.5");
  CHECK(clopper_pearson(below_tenth, kKeys, kCheckLevel).first <= 0.1);
  CHECK(clopper_pearson(below_half, kKeys, kCheckLevel).first <= 0.5);
  // ... and not vacuous: at p <= 0.5 about half the keys (a test that never rejects would pass the line above).
  CHECK(clopper_pearson(below_half, kKeys, kCheckLevel).second >= 0.3);
}

TEST_CASE("the weighted account tail equals the enumerated law of the weighted Bernoulli sum", "[model-aware]") {
  const std::vector<uint32_t> weights = {1, 2, 3, 3, 5, 8, 13, 64};
  const double theta = 0.5 + (1 / (1 + std::exp(-2.0)) - 0.5) * 3 / 256;
  attrib::WeightedMatchNull null;
  uint64_t total = 0;
  for (const uint32_t w : weights) {
    null.add(w);
    total += w;
  }
  // P(S = s) by enumerating all 2^8 outcomes.
  std::vector<double> mass(total + 1, 0.0);
  for (uint32_t outcome = 0; outcome < (1u << weights.size()); ++outcome) {
    uint64_t s = 0;
    double p = 1;
    for (size_t i = 0; i < weights.size(); ++i) {
      const bool one = (outcome >> i) & 1u;
      s += one ? weights[i] : 0;
      p *= one ? theta : 1 - theta;
    }
    mass[s] += p;
  }
  double tail = 0;
  for (uint64_t s = total + 1; s-- > 1;) {
    tail += mass[s];
    bool exact = false;
    const double log_p = null.log_sf(s, theta, &exact);
    INFO("threshold " << s << ": enumerated " << tail << ", computed " << std::exp(log_p));
    CHECK(exact);
    CHECK(std::exp(log_p) == Approx(tail).epsilon(1e-10));
  }
}
