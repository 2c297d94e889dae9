// Model-aware detection of one token sequence on its own, for callers that hold ids rather than files (the Python
// binding): the same weigher, weighted tallies and JSON as one document of `detect --model`, so its result is the
// object `detect --model --per-doc` prints under "model_aware" for the same ids (and, for a one-document run, the
// summary's "model_aware").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "model/position_weights.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/status.hpp"

namespace telltale::model {

class SequenceDetection {
 public:
  // One analysis per key, in order (Holm over them), with `params` (vocab_size the tokenizer's); `dedup` as
  // ScoringRules::dedup. The weigher must be params' detection-layer one (scheme_weigher(..., false)).
  static Result<SequenceDetection> create(PositionWeigher weigher, std::span<const KeyRing> keys,
                                          const SchemeParams& params, bool dedup);

  // Weighs `ids` (the first `prompt_tokens` a known prompt) and tests them on their own, deciding at `alpha` in
  // (0, 1): weighted_json of the document. Each call is independent of the ones before.
  Result<nlohmann::json> detect(std::span<const int32_t> ids, size_t prompt_tokens, double alpha);

  // The weight of each of `ids`, in grid units (kWeightGrid), written to `out`: what detect() weighs them by.
  void weigh(std::span<const int32_t> ids, std::vector<uint32_t>& out) { weigher_.weigh(ids, out); }
  const PositionWeigher& weigher() const { return weigher_; }

 private:
  SequenceDetection(PositionWeigher weigher, std::vector<Detector> detectors, bool dedup)
      : weigher_(std::move(weigher)), detectors_(std::move(detectors)), dedup_(dedup) {}
  PositionWeigher weigher_;
  std::vector<Detector> detectors_;
  bool dedup_;
  std::vector<uint32_t> weights_;
};

}  // namespace telltale::model
