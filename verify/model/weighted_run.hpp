// One model-aware detection: the plain run (verify/score/detection) with, beside it, each document weighed by the
// model and tested with the weighted score. With --model this is the test `detect` decides on (chosen before the
// data); the plain numbers stay in the output under "plain". `detect` and the evidence bundle's re-run share it.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/position_weights.hpp"
#include "model/weighted_detection.hpp"
#include "score/detection.hpp"
#include "telltale/keyring.hpp"
#include "telltale/status.hpp"

namespace telltale::model {

// The weighted half of a scan: feed it every document through on_tokens(), then amend the plain results.
class ModelAwareScan {
 public:
  // One analysis per key, in order, with `params` and the plain rules' de-duplication.
  static Result<ModelAwareScan> create(PositionWeigher weigher, std::span<const KeyRing> keys,
                                       const SchemeParams& params, bool dedup, double alpha);

  // The scan's token callback: weighs the document and tests it (valid while this object lives).
  score::CorpusScanner::TokensCallback on_tokens();
  // The last document's weighted result, as JSON.
  const nlohmann::json& last_document() const { return state_->documents.back(); }
  // Adds "model_aware" to each plain document result (in input order) and turns the plain summary into the
  // model-aware one (model_aware_summary).
  void amend(nlohmann::json& summary, nlohmann::json& documents) const;
  void amend_summary(nlohmann::json& summary) const;
  bool detected() const { return weighted_detected(state_->weighted.finish(), state_->alpha); }

 private:
  struct State {
    PositionWeigher weigher;
    WeightedDetection weighted;
    std::vector<uint32_t> weights;
    std::vector<nlohmann::json> documents;
    double alpha;
  };
  explicit ModelAwareScan(std::unique_ptr<State> state) : state_(std::move(state)) {}
  std::unique_ptr<State> state_;
};

// The plain summary turned into the model-aware one: the weighted test's p-value and decision at the top, the plain
// ones under "plain", the weighted evidence under "model_aware".
nlohmann::json model_aware_summary(nlohmann::json plain, const WeightedDocument& corpus, const WeightOptions& options,
                                   const std::string& model_sha256, double alpha);

}  // namespace telltale::model
