// Per-position weights from the reference model: the next-token distribution as the generator filters it
// (temperature, then the top-p nucleus, as runner/generator.cpp does), reduced to one number that never reads the key.
#include "model/position_weights.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "generator.hpp"
#include "input/tokenizer.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::model {

const char* weight_kind_name(WeightKind kind) {
  return kind == WeightKind::kSpikeEntropy ? "spike-entropy" : "expected-gain";
}

std::optional<WeightKind> parse_weight_kind(std::string_view name) {
  if (name == "expected-gain") return WeightKind::kExpectedGain;
  if (name == "spike-entropy") return WeightKind::kSpikeEntropy;
  return std::nullopt;
}

Result<WeightKind> weight_kind_from_name(std::string_view name) {
  if (const auto kind = parse_weight_kind(name)) return *kind;
  return invalid_argument("weight must be expected-gain or spike-entropy, not '" + std::string(name) + "'");
}

double position_weight(std::span<const float> probabilities, WeightKind kind, bool red_green, const BiasShape& shape) {
  if (!red_green) {
    double collision = 0;
    for (const float p : probabilities) collision += static_cast<double>(p) * p;
    return std::clamp(1.0 - collision, 0.0, 1.0);
  }
  const double alpha = std::exp(shape.delta);
  const double g = shape.gamma;
  const double z = (1 - g) * (alpha - 1) / (1 + (alpha - 1) * g);
  double spike = 0;
  for (const float p : probabilities) spike += p / (1 + z * p);
  if (kind == WeightKind::kSpikeEntropy) return std::clamp(spike, 0.0, 1.0);
  // Thm 4.2: E[green fraction] >= gamma alpha S / (1 + (alpha - 1) gamma); the gain over gamma, over its value at S
  // = 1. At delta = 0 no position carries any watermark: every weight is 0.
  if (!(alpha > 1)) return 0.0;
  const double gain = (alpha * spike - 1 - (alpha - 1) * g) / ((alpha - 1) * (1 - g));
  return std::clamp(gain, 0.0, 1.0);
}

uint32_t weight_units(double weight) {
  const double scaled = std::ceil(std::clamp(weight, 0.0, 1.0) * kWeightGrid);
  return static_cast<uint32_t>(scaled);
}

BiasShape detection_shape(const SchemeParams& params) {
  return {kgw_layout(params.kgw.gamma).effective_gamma(), params.kgw.delta};
}

BiasShape account_shape(const SchemeParams& params) { return {0.5, params.fingerprint.account_delta}; }

bool is_red_green(const SchemeParams& params) {
  return params.scheme == SchemeKind::kKgw || params.scheme == SchemeKind::kFingerprint;
}

Result<PositionWeigher> scheme_weigher(const std::string& model_path, uint32_t tokenizer_vocab,
                                       const WeightOptions& options, const SchemeParams& params, bool account_layer) {
  const BiasShape shape = account_layer ? account_shape(params) : detection_shape(params);
  return PositionWeigher::create(model_path, tokenizer_vocab, options, is_red_green(params), shape);
}

Result<PositionWeigher> PositionWeigher::create(const std::string& model_path, uint32_t tokenizer_vocab,
                                                const WeightOptions& options, bool red_green, const BiasShape& shape) {
  if (!(options.temperature > 0) || !std::isfinite(options.temperature))
    return invalid_argument("the model's temperature must be > 0");
  if (!(options.top_p > 0 && options.top_p <= 1)) return invalid_argument("the model's top-p must be in (0, 1]");
  if (options.kind == WeightKind::kSpikeEntropy && !red_green)
    return invalid_argument("spike-entropy weights need a red/green scheme (kgw or fingerprint)");
  auto sha = input::sha256_file_hex(model_path);
  if (!sha) return sha.status();
  auto model = refmodel::Llama2cModel::load(model_path);
  if (!model) return model.status();
  if (static_cast<uint32_t>(model->vocab_size()) != tokenizer_vocab) {
    return invalid_argument("the model's vocabulary (" + std::to_string(model->vocab_size()) +
                            " ids) does not match the tokenizer's (" + std::to_string(tokenizer_vocab) + " ids)");
  }
  if (model->seq_len() < 4) return invalid_argument("the model's context is too short to weigh positions");
  PositionWeigher w(std::move(model).value(), std::move(sha).value(), options, red_green, shape);
  w.probs_.resize(static_cast<size_t>(w.model_.vocab_size()));
  w.order_.resize(w.probs_.size());
  return w;
}

double PositionWeigher::filtered_weight(std::span<const float> logits) {
  const size_t v = probs_.size();
  const auto temperature = static_cast<float>(options_.temperature);
  float max = -INFINITY;
  for (size_t i = 0; i < v; ++i) max = std::max(max, logits[i] / temperature);
  double sum = 0;
  for (size_t i = 0; i < v; ++i) {
    probs_[i] = std::exp(logits[i] / temperature - max);
    sum += probs_[i];
  }
  for (float& p : probs_) p = static_cast<float>(p / sum);
  const auto top_p = static_cast<float>(options_.top_p);
  if (top_p < 1.0f) {
    std::iota(order_.begin(), order_.end(), 0);
    std::sort(order_.begin(), order_.end(),
              [&](int32_t a, int32_t b) { return probs_[a] != probs_[b] ? probs_[a] > probs_[b] : a < b; });
    double mass = 0, kept_mass = 0;
    size_t keep = 0;
    while (keep < v && mass < top_p) mass += probs_[order_[keep++]];
    for (size_t i = keep; i < v; ++i) probs_[order_[i]] = 0;
    for (size_t i = 0; i < keep; ++i) kept_mass += probs_[order_[i]];
    for (size_t i = 0; i < keep; ++i) probs_[order_[i]] = static_cast<float>(probs_[order_[i]] / kept_mass);
  }
  return position_weight(probs_, options_.kind, red_green_, shape_);
}

void PositionWeigher::run_span(std::span<const int32_t> ids, size_t begin, size_t from, size_t end,
                               std::vector<uint32_t>& out) {
  const int vocab = model_.vocab_size();
  model_.reset();
  int pos = 0;
  std::span<const float> logits = model_.forward(refmodel::kLlama2cBos, pos++);
  for (size_t i = begin; i < end; ++i) {
    if (i >= from) out[i] = weight_units(filtered_weight(logits));
    // An id outside the model's vocabulary cannot be fed (a pre-tokenized input may hold one): BOS stands in for it.
    const int32_t id = ids[i] >= 0 && ids[i] < vocab ? ids[i] : refmodel::kLlama2cBos;
    if (i + 1 < end) logits = model_.forward(id, pos++);
  }
}

void PositionWeigher::weigh(std::span<const int32_t> ids, std::vector<uint32_t>& out) {
  const size_t n = ids.size();
  out.assign(n, 0);
  const size_t context = static_cast<size_t>(model_.seq_len()) - 1;  // ids that fit after BOS
  if (n <= context) {
    run_span(ids, 0, 0, n, out);
    return;
  }
  run_span(ids, 0, 0, context, out);
  // Beyond the context: restart with the last half-context of ids before each new stretch of half a context.
  const size_t half = context / 2;
  for (size_t from = context; from < n; from += context - half) {
    const size_t end = std::min(n, from + (context - half));
    run_span(ids, from - half, from, end, out);
  }
}

}  // namespace telltale::model
