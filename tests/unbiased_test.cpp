// Distortion-free schemes leave the model's distribution unchanged: over many keys and contexts, the token that
// Gumbel-max or tournament sampling chooses is distributed as the model's own next-token distribution. The same
// check catches the red/green bias, which is not distortion-free.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "llama2c_model.hpp"
#include "reference_model.hpp"
#include "stats/tails.hpp"
#include "telltale/hook.hpp"
#include "test_paths.hpp"

using namespace telltale;

namespace {

constexpr double kAlpha = 1e-6;  // chance that the check fails for an unbiased scheme (Bonferroni over categories)
constexpr int kKeys = 64;
constexpr int kDrawsPerPrompt = 20000;
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The model's next-token logits after BOS + prompt, cut to the top-p = 0.95 nucleus (others -inf), as a server would
// hand them to choose(); and the matching probabilities.
struct StepDistribution {
  std::vector<float> logits;
  std::vector<double> probs;
};

StepDistribution model_step(refmodel::Llama2cModel& model, const std::vector<int32_t>& prompt) {
  model.reset();
  int pos = 0;
  std::span<const float> out = model.forward(1, pos++);
  for (int32_t id : prompt) out = model.forward(id, pos++);
  StepDistribution d{{out.begin(), out.end()}, std::vector<double>(out.size())};
  const float max = *std::max_element(d.logits.begin(), d.logits.end());
  double total = 0;
  for (size_t i = 0; i < d.logits.size(); ++i) total += d.probs[i] = std::exp(double(d.logits[i]) - max);
  std::vector<size_t> order(d.logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return d.probs[a] > d.probs[b]; });
  double mass = 0, kept = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    if (mass >= 0.95 * total) {
      d.logits[i] = kMinusInf;
      d.probs[i] = 0;
    } else {
      mass += d.probs[i];
      kept += d.probs[i];
    }
  }
  for (double& p : d.probs) p /= kept;
  return d;
}

// Chooses kDrawsPerPrompt tokens from `step` with the scheme, each under one of kKeys keys and a fresh random
// context window, and returns how often each id was chosen.
std::vector<uint64_t> draw_counts(SchemeKind scheme, const StepDistribution& step, uint64_t seed) {
  SchemeParams params = default_params(scheme, 512);
  params.skip_repeated_contexts = false;  // every draw is watermarked: no context repeats here anyway
  std::vector<Hook> hooks;
  std::vector<SeqState> states;
  for (int k = 0; k < kKeys; ++k) {
    std::vector<uint8_t> secret(32, static_cast<uint8_t>(k));
    secret[31] = static_cast<uint8_t>(seed);
    auto keys = KeyRing::from_secret(secret);
    REQUIRE(keys.is_ok());
    auto hook = Hook::create(*keys, params);
    REQUIRE(hook.is_ok());
    hooks.push_back(std::move(hook).value());
  }
  for (int k = 0; k < kKeys; ++k) {
    auto s = hooks[static_cast<size_t>(k)].new_sequence(0, seed * 1000 + static_cast<uint64_t>(k));
    REQUIRE(s.is_ok());
    states.push_back(std::move(s).value());
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> token(3, 511);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<uint64_t> counts(step.logits.size());
  std::vector<float> row(step.logits.size());
  for (int i = 0; i < kDrawsPerPrompt; ++i) {
    const size_t k = static_cast<size_t>(i % kKeys);
    SeqState& state = states[k];
    state.reset();
    for (int j = 0; j < 4; ++j) state.accept(token(rng));
    std::copy(step.logits.begin(), step.logits.end(), row.begin());
    SeqState* rows[] = {&state};
    const float u = uniform(rng);
    int32_t chosen = -1;
    REQUIRE(hooks[k].choose(rows, LogitsView{row.data(), 1, 512, 512}, &u, &chosen).is_ok());
    REQUIRE(chosen >= 0);
    REQUIRE(step.probs[static_cast<size_t>(chosen)] > 0);
    counts[static_cast<size_t>(chosen)] += 1;
  }
  return counts;
}

// ln of the smallest two-sided exact binomial p-value over the ids, times the number of ids (Bonferroni): the
// family-wise p-value of "some id's frequency is off".
double log_bonferroni_p(const std::vector<uint64_t>& counts, const std::vector<double>& probs) {
  uint64_t n = 0, categories = 0;
  for (uint64_t c : counts) n += c;
  double smallest = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (probs[i] <= 0) continue;
    ++categories;
    const double upper = stats::log_binomial_sf(counts[i], n, probs[i]);
    const double lower = stats::log_binomial_cdf(counts[i], n, probs[i]);
    smallest = std::min(smallest, std::log(2.0) + std::min(upper, lower));
  }
  return smallest + std::log(static_cast<double>(categories));
}

// Prompts (tok512 ids) whose next token is genuinely uncertain (a deterministic step would test nothing):
// "Once upon a time, there was a", "One day, a little", "She saw a big", "Tom", "The cat", "Lily".
const std::vector<std::vector<int32_t>> kPrompts = {{403, 407, 261, 378, 432, 383, 286, 261},
                                                    {385, 328, 432, 261, 376},
                                                    {338, 394, 261, 370},
                                                    {346},
                                                    {334, 424},
                                                    {365}};

}  // namespace

TEST_CASE("Gumbel-max and tournament choices follow the model's distribution over keys; red/green does not",
          "[unbiased][stats]") {
  auto model = test::reference_model();
  for (size_t p = 0; p < kPrompts.size(); ++p) {
    const StepDistribution step = model_step(*model, kPrompts[p]);
    const uint64_t seed = 77 + p;
    for (SchemeKind scheme : {SchemeKind::kGumbel, SchemeKind::kTournament}) {
      const double log_p = log_bonferroni_p(draw_counts(scheme, step, seed), step.probs);
      INFO("prompt " << p << ", scheme " << scheme_name(scheme) << ": ln family-wise p = " << log_p);
      CHECK(log_p > std::log(kAlpha));
    }
    // KGW (gamma 1/4, delta 2) moves mass toward whichever ids are green under each key: averaged over keys, the
    // most likely id loses mass, so the same check must reject it.
    const double kgw = log_bonferroni_p(draw_counts(SchemeKind::kKgw, step, seed), step.probs);
    INFO("prompt " << p << ", kgw: ln family-wise p = " << kgw);
    CHECK(kgw < std::log(kAlpha));
  }
}
