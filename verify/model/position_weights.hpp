// Model-aware weights: for each position of a suspect text, how much watermark the owner's model could have put there,
// computed from the model's next-token distribution alone (never the key), so that under H0 they are fixed numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llama2c_model.hpp"
#include "telltale/scheme.hpp"
#include "telltale/status.hpp"

namespace telltale::model {

// Weights are rounded up to multiples of 1/kWeightGrid (a power of two, so the rounded weight is an exact double and
// divides every grid of the weighted-Bernoulli tail): the statistic is then exact integer arithmetic on the account
// layer, and the null's grid rounding has nothing left to round.
inline constexpr uint32_t kWeightGrid = 64;

enum class WeightKind : uint32_t {
  // The lower bound on the position's expected score gain (Kirchenbauer et al. 2023, Thm 4.2, from the spike entropy
  // with the scheme's gamma and delta), divided by its maximum: 0 where the next token is certain, 1 at a flat
  // distribution. Tournament and Gumbel: 1 - sum p^2, the chance two draws differ (a two-way match decides on g-values
  // only then: the tournament's first-layer gain is (1 - sum p^2) / 4; for Gumbel a proxy).
  kExpectedGain = 0,
  // The spike entropy itself, sum_k p_k / (1 + z p_k), z = (1 - gamma)(e^delta - 1) / (1 + (e^delta - 1) gamma)
  // (EWD, Lu et al. 2024): in [1 / (1 + z), 1). Red/green schemes only.
  kSpikeEntropy = 1,
};

// "expected-gain", "spike-entropy": the name on the command line and in records.
const char* weight_kind_name(WeightKind kind);
std::optional<WeightKind> parse_weight_kind(std::string_view name);
// The same, with the one-line refusal `detect --model` and the Python binding both give for an unknown name.
Result<WeightKind> weight_kind_from_name(std::string_view name);

struct WeightOptions {
  WeightKind kind = WeightKind::kExpectedGain;
  double temperature = 1.0;  // the generation's temperature (> 0): the distribution is softmax(logits / temperature)
  double top_p = 0.9;        // the generation's nucleus mass in (0, 1] (`telltale generate`'s default); compared as
                             // the generator compares it, in single precision
};

// The gamma and delta (logits) a red/green weight is computed for: KGW's, the fingerprint's shared layer's, or the
// fingerprint's account layer (half the vocabulary, the account delta) for attribution.
struct BiasShape {
  double gamma = 0.25;
  double delta = 2.0;
};

// The weight of one position from its (filtered, normalised) next-token probabilities. `shape` is ignored for the
// distortion-free schemes' expected gain. Result in [0, 1].
double position_weight(std::span<const float> probabilities, WeightKind kind, bool red_green, const BiasShape& shape);

// The weight rounded up onto the grid, in grid units (0..kWeightGrid).
uint32_t weight_units(double weight);

class PositionWeigher {
 public:
  // Loads the model at `model_path` and checks it against the tokenizer's vocabulary (a mismatch is refused with one
  // line) and the options' ranges; `red_green` and `shape` as for position_weight. Refuses spike-entropy for a
  // distortion-free scheme.
  static Result<PositionWeigher> create(const std::string& model_path, uint32_t tokenizer_vocab,
                                        const WeightOptions& options, bool red_green, const BiasShape& shape);

  // The weight, in grid units, of each position i of `ids` (of predicting ids[i] after ids[0 .. i-1], the model fed
  // BOS first), written to out[i]. Texts longer than the model's context slide a window of half the context.
  void weigh(std::span<const int32_t> ids, std::vector<uint32_t>& out);

  const std::string& model_sha256() const { return sha256_; }
  const WeightOptions& options() const { return options_; }

 private:
  PositionWeigher(refmodel::Llama2cModel model, std::string sha256, const WeightOptions& options, bool red_green,
                  const BiasShape& shape)
      : model_(std::move(model)), sha256_(std::move(sha256)), options_(options), red_green_(red_green), shape_(shape) {}
  // Feeds BOS + ids[begin .. end) and writes the weight of positions [from, end) (each needs its predecessor fed).
  void run_span(std::span<const int32_t> ids, size_t begin, size_t from, size_t end, std::vector<uint32_t>& out);
  double filtered_weight(std::span<const float> logits);

  refmodel::Llama2cModel model_;
  std::string sha256_;
  WeightOptions options_;
  bool red_green_;
  BiasShape shape_;
  std::vector<float> probs_;
  std::vector<int32_t> order_;
};

// The bias shape of a scheme's detection layer (KGW, fingerprint shared layer) and of the fingerprint's account layer.
BiasShape detection_shape(const SchemeParams& params);
BiasShape account_shape(const SchemeParams& params);
// KGW and the fingerprint are red/green schemes; Gumbel and the tournament are not.
bool is_red_green(const SchemeParams& params);

// The weigher of `params`'s detection layer or, with `account_layer`, of the fingerprint's account layer: the one
// `detect --model` and `attribute --model` load, and the Python binding's. Errors as PositionWeigher::create.
Result<PositionWeigher> scheme_weigher(const std::string& model_path, uint32_t tokenizer_vocab,
                                       const WeightOptions& options, const SchemeParams& params, bool account_layer);

}  // namespace telltale::model
