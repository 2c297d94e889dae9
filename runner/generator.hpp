// Generates text with the reference model and, when given one, telltale's hook: the source of real next-token
// distributions for the end-to-end tests, the demo and `telltale generate`. Not part of the core library.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "antidistill_proxy.hpp"
#include "llama2c_model.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::refmodel {

struct GenerationOptions {
  int max_new_tokens = 256;  // generated tokens at most; prompt + these must fit the model's context
  float temperature = 1.0f;  // > 0; logits are divided by it
  float top_p = 0.9f;        // nucleus mass in (0, 1]; 1 keeps every id
  uint64_t seed = 1;         // drives every uniform draw; the same seed gives the same text
  bool stop_at_end = true;   // stop when the model emits BOS (as llama2.c does) or EOS
  // Antidistillation: a proxy fed the same tokens, whose adjustment (times lambda) the hook adds before its draw.
  // Needs a hook. nullptr: none.
  AntidistillProxy* proxy = nullptr;
  float lambda = 0;
};

struct Generation {
  std::vector<int32_t> prompt;  // the prompt ids fed after BOS (BOS itself is not part of the watermark context)
  std::vector<int32_t> tokens;  // the generated ids, without the stop token
  // Per generated token: whether the hook watermarked that step (false: no full window yet, a repeated context, or
  // no hook at all).
  std::vector<uint8_t> watermarked;
  // Per generated token, for KGW: the probability mass of the green ids in the distribution the token was drawn from
  // (after the bias). It is what theory predicts for the chance that the token is green. NaN where no bias applied.
  std::vector<double> green_mass;
  // Per generated token: ln p of the token, and the entropy (nats) of the distribution, under the model's own
  // unmodified next-token distribution (temperature 1, every id): what text quality is measured against.
  std::vector<double> model_log_prob;
  std::vector<double> model_entropy;
};

// splitmix64 (Steele, Lea, Flood 2014): the generator's stream of draws, also used by the distillation simulator.
uint64_t splitmix64(uint64_t& state);

// The BOS id of llama2.c models (also their stop token).
inline constexpr int32_t kLlama2cBos = 1;
inline constexpr int32_t kLlama2cEos = 2;

class Generator {
 public:
  explicit Generator(Llama2cModel& model);

  // Generates after BOS + `prompt`. With `hook` (and a state for it) each step goes through Hook::choose on the
  // temperature- and top-p-filtered distribution; without, the same draws are made from that distribution directly,
  // so a seed gives the unwatermarked twin of a watermarked text. `state` receives the prompt and generated tokens.
  Result<Generation> run(std::span<const int32_t> prompt, const Hook* hook, SeqState* state,
                         const GenerationOptions& options);

 private:
  void filter(std::span<const float> logits, const GenerationOptions& options);
  void record_model_stats(std::span<const float> logits, int32_t token, Generation& out) const;

  Llama2cModel& model_;
  std::vector<float> row_;       // the filtered logits handed to the hook (excluded ids at -inf)
  std::vector<float> original_;  // the same before the hook touched them
  std::vector<float> probs_;
  std::vector<int32_t> order_;
};

}  // namespace telltale::refmodel
