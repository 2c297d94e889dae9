// One sequence through the model-aware test: weigh, tally (a fresh WeightedDetection per call), state as JSON.
#include "model/sequence_detection.hpp"

#include "model/weighted_detection.hpp"

namespace telltale::model {

Result<SequenceDetection> SequenceDetection::create(PositionWeigher weigher, std::span<const KeyRing> keys,
                                                    const SchemeParams& params, bool dedup) {
  if (keys.empty()) return invalid_argument("model-aware detection needs at least one key");
  auto detectors = detectors_for(keys, params);
  if (!detectors) return detectors.status();
  return SequenceDetection(std::move(weigher), std::move(detectors).value(), dedup);
}

Result<nlohmann::json> SequenceDetection::detect(std::span<const int32_t> ids, size_t prompt_tokens, double alpha) {
  if (!(alpha > 0 && alpha < 1)) return invalid_argument("alpha must be in (0, 1)");
  std::vector<const Detector*> pointers;
  for (const Detector& d : detectors_) pointers.push_back(&d);
  auto weighted = WeightedDetection::create(pointers, dedup_);
  if (!weighted) return weighted.status();
  weigher_.weigh(ids, weights_);
  const WeightedDocument& doc = weighted->add_document(ids, prompt_tokens, weights_);
  return weighted_json(doc, weigher_.options(), weigher_.model_sha256(), alpha);
}

}  // namespace telltale::model
