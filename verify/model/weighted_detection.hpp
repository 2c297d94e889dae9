// Model-aware detection: the weighted score sum_i w_i X_i over the scored (context, token) tuples, w_i the model's
// key-independent weight of the position (position_weights.hpp) and X_i the scheme's per-token score. Given the text,
// the weights are fixed and the X_i independent null scores, so the null is the weighted sum of spec/statistics.md
// section 8 (the radioactivity probability score's law, with the model's weights in place of the suspect's
// probabilities). Positions, the prompt and de-duplication follow the plain test (spec/statistics.md section 1).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <unordered_set>
#include <vector>

#include "model/position_weights.hpp"
#include "radio/probability_score.hpp"
#include "score/tuple_set.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/status.hpp"

namespace telltale::model {

struct WeightedDocument {
  uint64_t scored = 0;       // tuples scored (after the prompt, the first window and de-duplication)
  uint64_t zero_weight = 0;  // of which the model gave weight 0: they add nothing to the statistic or its null
  std::vector<radio::ProbabilityEvidence> by_key;  // one per detector
};

class WeightedDetection {
 public:
  // One analysis per detector (each cloned; all with the same window size). `dedup` as ScoringRules::dedup.
  static Result<WeightedDetection> create(std::span<const Detector* const> detectors, bool dedup);

  // Scores one document: `ids`, of which the first `prompt_tokens` are a known prompt, and `weights` in grid units
  // (kWeightGrid), one per id. Returns the document's own weighted evidence (valid until the next call) and adds its
  // corpus-new tuples to the corpus tally.
  const WeightedDocument& add_document(std::span<const int32_t> ids, size_t prompt_tokens,
                                       std::span<const uint32_t> weights);

  // The corpus-level weighted evidence, one per detector.
  WeightedDocument finish() const;
  uint64_t documents() const { return documents_; }

 private:
  WeightedDetection(std::vector<Detector> detectors, bool dedup);
  std::vector<Detector> detectors_;
  bool dedup_;
  score::TupleSet doc_seen_;
  std::unordered_set<uint64_t> corpus_seen_;
  std::vector<radio::ProbabilityTally> corpus_;
  WeightedDocument doc_;
  WeightedDocument corpus_counts_;
  std::vector<double> scores_;
  std::vector<uint8_t> keep_, corpus_new_;
  uint64_t documents_ = 0;
};

// The weighted result as JSON: per key the statistic, its null mean, the p-value (ln and log10), Holm over the keys,
// the tail method, and the decision at `alpha`; plus the weight choice and the model's SHA-256.
nlohmann::json weighted_json(const WeightedDocument& result, const WeightOptions& options,
                             const std::string& model_sha256, double alpha);

// The weight choice as reports state it: kind, temperature, top-p, grid and the model's SHA-256.
nlohmann::json weights_json(const WeightOptions& options, const std::string& model_sha256);

// One detector per key, in order, for the analyses of a WeightedDetection.
Result<std::vector<Detector>> detectors_for(std::span<const KeyRing> keys, const SchemeParams& params);

// True when some key's Holm-adjusted weighted p-value is at most alpha.
bool weighted_detected(const WeightedDocument& result, double alpha);

}  // namespace telltale::model
