// The model-aware scan: the weigher and the weighted tallies in the plain scan's token callback.
#include "model/weighted_run.hpp"

namespace telltale::model {

nlohmann::json model_aware_summary(nlohmann::json plain, const WeightedDocument& corpus, const WeightOptions& options,
                                   const std::string& model_sha256, double alpha) {
  nlohmann::json j = std::move(plain);
  j["plain"] = {{"p_value", j["p_value"]}, {"log10_p_value", j["log10_p_value"]}, {"detected", j["detected"]}};
  nlohmann::json weighted = weighted_json(corpus, options, model_sha256, alpha);
  j["test"] = "model-aware";
  j["p_value"] = weighted["p_value"];
  j["log10_p_value"] = weighted["log10_p_value"];
  j["detected"] = weighted["detected"];
  j["model_aware"] = std::move(weighted);
  return j;
}

Result<ModelAwareScan> ModelAwareScan::create(PositionWeigher weigher, std::span<const KeyRing> keys,
                                              const SchemeParams& params, bool dedup, double alpha) {
  auto made = detectors_for(keys, params);
  if (!made) return made.status();
  const std::vector<Detector> detectors = std::move(made).value();
  std::vector<const Detector*> pointers;
  for (const Detector& d : detectors) pointers.push_back(&d);
  auto weighted = WeightedDetection::create(pointers, dedup);
  if (!weighted) return weighted.status();
  return ModelAwareScan(std::make_unique<State>(State{std::move(weigher), std::move(weighted).value(), {}, {}, alpha}));
}

score::CorpusScanner::TokensCallback ModelAwareScan::on_tokens() {
  State* s = state_.get();
  return [s](const input::Document&, std::span<const int32_t> ids, size_t prompt) {
    s->weigher.weigh(ids, s->weights);
    const WeightedDocument& doc = s->weighted.add_document(ids, prompt, s->weights);
    s->documents.push_back(weighted_json(doc, s->weigher.options(), s->weigher.model_sha256(), s->alpha));
  };
}

void ModelAwareScan::amend_summary(nlohmann::json& summary) const {
  summary = model_aware_summary(std::move(summary), state_->weighted.finish(), state_->weigher.options(),
                                state_->weigher.model_sha256(), state_->alpha);
}

void ModelAwareScan::amend(nlohmann::json& summary, nlohmann::json& documents) const {
  for (size_t i = 0; i < documents.size() && i < state_->documents.size(); ++i)
    documents[i]["model_aware"] = state_->documents[i];
  amend_summary(summary);
}

}  // namespace telltale::model
