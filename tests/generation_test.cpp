// End to end with a real model: KGW-watermarked generations from stories260K are green far more often than gamma,
// by as much as the model's own distributions predict; the same draws without the hook are not.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "generator.hpp"
#include "llama2c_model.hpp"
#include "reference_model.hpp"
#include "stats/tails.hpp"
#include "telltale/hook.hpp"
#include "test_paths.hpp"

using namespace telltale;

namespace {

constexpr double kAlpha = 1e-6;  // every statistical check below fails by chance with probability at most this

KeyRing test_key() {
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(0xA0 + 7 * i);
  return std::move(KeyRing::from_secret(secret)).value();
}

// Prompts tokenized with tok512.model (ids only, so the test needs no tokenizer): "Once upon a time", "Tom",
// "The cat", "Lily".
const std::vector<std::vector<int32_t>> kPrompts = {{403, 407, 261, 378}, {346}, {334, 424}, {365}};

struct Counts {
  uint64_t green = 0;         // scored tokens that are green
  uint64_t scored = 0;        // tokens with a full window (every one, repeats included)
  uint64_t unique_green = 0;  // the same over unique (window, token) tuples
  uint64_t unique = 0;
  double predicted = 0;  // sum over watermarked steps of the green mass the token was drawn from
  double variance = 0;   // sum of m (1 - m): the predictable variation of green - predicted
};

// Generates texts (prompt i, seed s) with or without the hook and scores them with the detector.
Counts generate_and_score(bool watermark, int texts, int tokens) {
  const KeyRing keys = test_key();
  auto model = test::reference_model();
  const SchemeParams params = default_params(SchemeKind::kKgw, 512);  // gamma 1/4, delta 2, h 4
  auto hook = Hook::create(keys, params);
  auto detector = Detector::create(keys, params);
  REQUIRE(hook.is_ok());
  REQUIRE(detector.is_ok());
  const size_t h = detector->window_size();
  refmodel::Generator generator(*model);
  Counts c;
  std::set<std::vector<int32_t>> seen;
  for (int t = 0; t < texts; ++t) {
    const auto& prompt = kPrompts[static_cast<size_t>(t) % kPrompts.size()];
    refmodel::GenerationOptions options;
    options.max_new_tokens = tokens;
    options.seed = 1000 + static_cast<uint64_t>(t);
    auto seq = hook->new_sequence(0, options.seed);
    REQUIRE(seq.is_ok());
    auto gen =
        watermark ? generator.run(prompt, &*hook, &*seq, options) : generator.run(prompt, nullptr, nullptr, options);
    REQUIRE(gen.is_ok());
    std::vector<int32_t> all = gen->prompt;
    all.insert(all.end(), gen->tokens.begin(), gen->tokens.end());
    for (size_t i = 0; i < gen->tokens.size(); ++i) {
      const size_t at = gen->prompt.size() + i;
      if (at < h) continue;  // no full window: not watermarked, not scored
      if (watermark) REQUIRE(gen->watermarked[i]);
      const std::span<const int32_t> window(all.data() + at - h, h);
      const bool green = detector->score(window, all[at]) > 0.5;
      c.scored += 1;
      c.green += green;
      if (watermark) {
        const double m = gen->green_mass[i];
        REQUIRE(m >= 0.0);
        REQUIRE(m <= 1.0 + 1e-6);
        c.predicted += m;
        c.variance += m * (1 - m);
      }
      std::vector<int32_t> tuple(all.begin() + static_cast<ptrdiff_t>(at - h),
                                 all.begin() + static_cast<ptrdiff_t>(at + 1));
      if (seen.insert(std::move(tuple)).second) {
        c.unique += 1;
        c.unique_green += green;
      }
    }
  }
  return c;
}

}  // namespace

TEST_CASE("watermarked generations are green far above gamma, as much as theory predicts", "[e2e][stats]") {
  const Counts c = generate_and_score(true, 40, 200);
  INFO("green " << c.green << " of " << c.scored << " scored; unique " << c.unique_green << " of " << c.unique
                << "; predicted " << c.predicted << " (variance " << c.variance << ")");
  REQUIRE(c.scored > 4000);

  // Significance over unique tuples: exact binomial upper tail under gamma = 1/4.
  const double log_p = stats::log_binomial_sf(c.unique_green, c.unique, 0.25);
  INFO("log p-value " << log_p);
  CHECK(log_p < std::log(kAlpha));

  // Theory: given the past, each watermarked step is green with probability m_t, the green mass of the distribution
  // it was drawn from, so green - sum(m_t) is a martingale with increments in [-1, 1] and predictable variation
  // V = sum m_t (1 - m_t). Freedman's inequality bounds it: P(|green - predicted| >= x) <= 2 exp(-x^2 / (2 (V + x/3))).
  const double l = std::log(2 / kAlpha);
  const double x = l / 3 + std::sqrt(l * l / 9 + 2 * c.variance * l);
  INFO("Freedman bound at alpha 1e-6: +-" << x);
  CHECK(std::fabs(static_cast<double>(c.green) - c.predicted) <= x);
}

TEST_CASE("the same draws without the hook are green at rate gamma over unique tuples", "[e2e][stats]") {
  const Counts c = generate_and_score(false, 40, 200);
  INFO("unique green " << c.unique_green << " of " << c.unique << " (all: " << c.green << " of " << c.scored << ")");
  REQUIRE(c.unique > 2000);
  // Two-sided exact binomial test at alpha: neither tail may be smaller than alpha / 2.
  CHECK(stats::log_binomial_sf(c.unique_green, c.unique, 0.25) > std::log(kAlpha / 2));
  CHECK(stats::log_binomial_cdf(c.unique_green, c.unique, 0.25) > std::log(kAlpha / 2));
}

TEST_CASE("the generator records ln p and entropy of the model's own distribution for every token", "[e2e][refmodel]") {
  auto model = test::reference_model();
  auto hook = Hook::create(test_key(), default_params(SchemeKind::kKgw, 512));
  REQUIRE(hook.is_ok());
  auto state = hook->new_sequence(0, 5);
  REQUIRE(state.is_ok());
  refmodel::Generator generator(*model);
  refmodel::GenerationOptions options;
  options.max_new_tokens = 40;
  options.top_p = 0.9f;  // the recorded values ignore the nucleus and the watermark: the model at temperature 1
  options.temperature = 0.8f;
  options.seed = 5;
  auto g = generator.run(kPrompts[0], &*hook, &*state, options);
  REQUIRE(g.is_ok());
  REQUIRE(g->model_log_prob.size() == g->tokens.size());
  REQUIRE(g->model_entropy.size() == g->tokens.size());
  // Replay the same ids and recompute both from the raw logits in long double.
  int pos = 0;
  std::span<const float> logits = model->forward(refmodel::kLlama2cBos, pos++);
  for (int32_t id : kPrompts[0]) logits = model->forward(id, pos++);
  for (size_t i = 0; i < g->tokens.size(); ++i) {
    long double max = logits[0];
    for (float x : logits) max = std::max<long double>(max, x);
    long double z = 0, weighted = 0;
    for (float x : logits) {
      z += std::exp(x - max);
      weighted += std::exp(x - max) * (x - max);
    }
    const long double log_p = logits[static_cast<size_t>(g->tokens[i])] - max - std::log(z);
    const long double entropy = std::log(z) - weighted / z;
    INFO("token " << i);
    CHECK(std::abs(static_cast<double>(log_p) - g->model_log_prob[i]) < 1e-9);
    CHECK(std::abs(static_cast<double>(entropy) - g->model_entropy[i]) < 1e-9);
    CHECK(g->model_entropy[i] >= 0);
    CHECK(g->model_entropy[i] <= std::log(512.0) + 1e-12);
    logits = model->forward(g->tokens[i], pos++);
  }
}
