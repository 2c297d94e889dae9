// The reference generator: temperature, top-p, then the hook's draw (or a plain draw with the same uniforms).
#include "generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace telltale::refmodel {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The top 24 bits of splitmix64 give a float uniform in [0, 1).
float next_uniform(uint64_t& state) { return static_cast<float>(splitmix64(state) >> 40) * 0x1.0p-24f; }

// softmax of `logits` into `probs` (excluded ids get 0), in double for the sums the tests compare with.
void softmax(std::span<const float> logits, std::vector<float>& probs) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    probs[i] = logits[i] == kMinusInf ? 0.0f : std::exp(logits[i] - max);
    sum += probs[i];
  }
  for (float& p : probs) p = static_cast<float>(p / sum);
}

// Inverse-CDF draw in id order.
int32_t draw(std::span<const float> probs, float uniform) {
  double cdf = 0;
  int32_t last = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0) continue;
    cdf += probs[i];
    last = static_cast<int32_t>(i);
    if (uniform < cdf) return last;
  }
  return last;  // rounding left the sum below the uniform
}

}  // namespace

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Generator::Generator(Llama2cModel& model)
    : model_(model),
      row_(static_cast<size_t>(model.vocab_size())),
      original_(row_.size()),
      probs_(row_.size()),
      order_(row_.size()) {}

// row_ = logits / temperature with every id outside the top-p nucleus at -inf.
void Generator::filter(std::span<const float> logits, const GenerationOptions& options) {
  for (size_t i = 0; i < row_.size(); ++i) row_[i] = logits[i] / options.temperature;
  if (options.top_p >= 1.0f) return;
  softmax(row_, probs_);
  std::iota(order_.begin(), order_.end(), 0);
  std::sort(order_.begin(), order_.end(),
            [&](int32_t a, int32_t b) { return probs_[a] != probs_[b] ? probs_[a] > probs_[b] : a < b; });
  double mass = 0;
  size_t keep = 0;
  while (keep < order_.size() && mass < options.top_p) mass += probs_[order_[keep++]];
  for (size_t i = keep; i < order_.size(); ++i) row_[order_[i]] = kMinusInf;
}

void Generator::record_model_stats(std::span<const float> logits, int32_t token, Generation& out) const {
  const double max = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  double weighted = 0;  // sum of e^(x - max) (x - max)
  for (float x : logits) {
    const double e = std::exp(x - max);
    z += e;
    weighted += e * (x - max);
  }
  const double log_z = std::log(z);
  out.model_log_prob.push_back(logits[static_cast<size_t>(token)] - max - log_z);
  out.model_entropy.push_back(log_z - weighted / z);
}

Result<Generation> Generator::run(std::span<const int32_t> prompt, const Hook* hook, SeqState* state,
                                  const GenerationOptions& options) {
  if (!(options.temperature > 0) || !(options.top_p > 0 && options.top_p <= 1) || options.max_new_tokens < 0)
    return invalid_argument("generation needs temperature > 0, top_p in (0, 1] and max_new_tokens >= 0");
  if ((hook == nullptr) != (state == nullptr)) return invalid_argument("a hook needs a sequence state, and back");
  AntidistillProxy* proxy = options.proxy;
  if (proxy != nullptr && hook == nullptr) return invalid_argument("antidistillation needs the watermark's hook");
  const int vocab = model_.vocab_size();
  const size_t needed = 1 + prompt.size() + static_cast<size_t>(options.max_new_tokens);
  if (needed > static_cast<size_t>(model_.seq_len()))
    return invalid_argument("prompt plus " + std::to_string(options.max_new_tokens) + " tokens exceeds the model's " +
                            std::to_string(model_.seq_len()) + "-token context");
  for (int32_t id : prompt)
    if (id < 0 || id >= vocab)
      return invalid_argument("prompt id " + std::to_string(id) + " is outside the vocabulary");

  Generation out;
  out.prompt.assign(prompt.begin(), prompt.end());
  model_.reset();
  uint64_t rng = options.seed;
  int pos = 0;
  if (proxy != nullptr) proxy->reset();
  std::span<const float> logits;
  // Feeds the teacher and the proxy the same token at the same position.
  const auto feed = [&](int32_t id) -> Status {
    if (proxy != nullptr) TT_RETURN_IF_ERROR(proxy->feed(id, pos));
    logits = model_.forward(id, pos++);
    return Status::ok();
  };
  TT_RETURN_IF_ERROR(feed(kLlama2cBos));
  for (int32_t id : prompt) {
    TT_RETURN_IF_ERROR(feed(id));
    if (state) state->accept(id);
  }
  const bool kgw = hook && hook->params().scheme == SchemeKind::kKgw;
  for (int step = 0; step < options.max_new_tokens; ++step) {
    filter(logits, options);
    const float uniform = next_uniform(rng);
    int32_t token = -1;
    double green = std::numeric_limits<double>::quiet_NaN();
    bool marked = false;
    if (hook) {
      std::copy(row_.begin(), row_.end(), original_.begin());
      SeqState* rows[] = {state};
      const LogitsView view{row_.data(), 1, vocab, vocab};
      const uint64_t before = state->watermarked_steps();
      const Adjustment adjustment = proxy != nullptr ? proxy->adjustment(options.lambda) : Adjustment{};
      TT_RETURN_IF_ERROR(hook->choose(rows, view, &uniform, &token, false, adjustment));
      state->accept(token);
      marked = state->watermarked_steps() > before;
      // choose biased row_ in place: the green ids are the ones it changed (unknown under an adjustment).
      if (kgw && marked && !adjustment.active()) {
        softmax(row_, probs_);
        green = 0;
        for (size_t i = 0; i < row_.size(); ++i)
          if (row_[i] != original_[i]) green += probs_[i];
      }
    } else {
      softmax(row_, probs_);
      token = draw(probs_, uniform);
    }
    if (options.stop_at_end && (token == kLlama2cBos || token == kLlama2cEos)) break;
    out.tokens.push_back(token);
    out.watermarked.push_back(marked);
    out.green_mass.push_back(green);
    record_model_stats(logits, token, out);
    TT_RETURN_IF_ERROR(feed(token));
  }
  return out;
}

}  // namespace telltale::refmodel
