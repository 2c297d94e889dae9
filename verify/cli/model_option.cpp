// The model-aware options of `detect` and `attribute`.
#include "model_option.hpp"

namespace telltale::cli {

void add_model_options(CLI::App& cmd, ModelCliOptions& o) {
  cmd.add_option("--model", o.model,
                 "model-aware test: weigh each position by this llama2.c model's key-independent weight "
                 "(spec/statistics.md section 8)");
  cmd.add_option("--weight", o.weight, "with --model: expected-gain or spike-entropy")->capture_default_str();
  cmd.add_option("--model-temperature", o.temperature, "with --model: the generation's temperature")
      ->capture_default_str();
  cmd.add_option("--model-top-p", o.top_p, "with --model: the generation's nucleus mass")->capture_default_str();
}

Result<std::optional<model::PositionWeigher>> load_weigher(const ModelCliOptions& o, uint32_t tokenizer_vocab,
                                                           const SchemeParams& params, bool account_layer) {
  const auto kind = model::weight_kind_from_name(o.weight);
  if (!kind) return invalid_argument("--" + kind.status().message());
  if (o.model.empty()) {
    if (o.weight != "expected-gain" || o.temperature != 1.0 || o.top_p != 0.9)
      return invalid_argument("--weight, --model-temperature and --model-top-p need --model");
    return std::optional<model::PositionWeigher>();
  }
  const model::WeightOptions options{*kind, o.temperature, o.top_p};
  auto w = model::scheme_weigher(o.model, tokenizer_vocab, options, params, account_layer);
  if (!w) return Status(w.status().code(), "--model: " + w.status().message());
  return std::optional<model::PositionWeigher>(std::move(w).value());
}

}  // namespace telltale::cli
