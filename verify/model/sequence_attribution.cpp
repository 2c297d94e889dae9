// One sequence through the account test: weigh (model-aware), scan with a fresh AttributionScan, state as JSON.
#include "model/sequence_attribution.hpp"

#include "attrib/attribution_json.hpp"
#include "attrib/attribution_scan.hpp"
#include "model/weighted_detection.hpp"

namespace telltale::model {

Result<SequenceAttribution> SequenceAttribution::create(std::optional<PositionWeigher> weigher, const KeyRing& key,
                                                        const SchemeParams& params, attrib::AccountRegistry registry) {
  if (params.scheme != SchemeKind::kFingerprint) return invalid_argument("attribution needs the fingerprint scheme");
  auto detector = Detector::create(key, params);
  if (!detector) return detector.status();
  return SequenceAttribution(std::move(weigher), std::move(detector).value(), std::move(registry));
}

Result<nlohmann::json> SequenceAttribution::attribute(std::span<const int32_t> ids, size_t prompt_tokens, double alpha,
                                                      size_t top) {
  attrib::AttributionOptions options;
  options.alpha = alpha;
  options.top = top;
  options.weighted = weigher_.has_value();
  auto scan = attrib::AttributionScan::create(detector_, registry_, options);
  if (!scan) return scan.status();
  weights_.clear();
  if (weigher_) weigher_->weigh(ids, weights_);
  nlohmann::json j = attrib::document_account_json(scan->add_document(ids, prompt_tokens, "", weights_));
  if (weigher_) j["model_aware"] = {{"weights", weights_json(weigher_->options(), weigher_->model_sha256())}};
  return j;
}

}  // namespace telltale::model
