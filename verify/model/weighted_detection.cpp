// The weighted tallies of model-aware detection, per document and per corpus, and their JSON; the tails come from the
// probability score's null (verify/radio/probability_score, verify/stats/probability_null).
#include "model/weighted_detection.hpp"

#include <algorithm>
#include <cmath>

#include "score/tuple_hash.hpp"
#include "stats/multiple_testing.hpp"
#include "stats/tails.hpp"

namespace telltale::model {

WeightedDetection::WeightedDetection(std::vector<Detector> detectors, bool dedup)
    : detectors_(std::move(detectors)), dedup_(dedup) {
  for (const Detector& d : detectors_) corpus_.emplace_back(d.null_model());
}

Result<WeightedDetection> WeightedDetection::create(std::span<const Detector* const> detectors, bool dedup) {
  if (detectors.empty()) return invalid_argument("model-aware detection needs at least one key");
  std::vector<Detector> clones;
  for (const Detector* d : detectors) {
    if (d->window_size() != detectors.front()->window_size())
      return invalid_argument("model-aware detection needs one context width for every key");
    auto c = d->clone();
    if (!c) return c.status();
    clones.push_back(std::move(c).value());
  }
  return WeightedDetection(std::move(clones), dedup);
}

const WeightedDocument& WeightedDetection::add_document(std::span<const int32_t> ids, size_t prompt_tokens,
                                                        std::span<const uint32_t> weights) {
  const size_t n = ids.size();
  const size_t w = detectors_.front().window_size();
  const size_t p = std::min(prompt_tokens, n);
  const size_t first = std::max(p, std::min(w, n));
  ++documents_;
  doc_.scored = 0;
  doc_.zero_weight = 0;
  doc_.by_key.clear();
  for (const Detector& d : detectors_) doc_.by_key.push_back(radio::ProbabilityTally(d.null_model()).evaluate());
  if (first >= n) return doc_;
  // Which positions count, in this document and in the corpus: the plain test's rules, key-independent.
  keep_.assign(n, 0);
  corpus_new_.assign(n, 0);
  doc_seen_.reset(n);
  for (size_t i = w; i < p; ++i) {
    const uint64_t h = score::tuple_hash(ids.subspan(i - w, w), ids[i]);
    doc_seen_.insert(h);
    if (dedup_) corpus_seen_.insert(h);
  }
  for (size_t i = first; i < n; ++i) {
    const uint64_t h = score::tuple_hash(ids.subspan(i - w, w), ids[i]);
    if (dedup_ && !doc_seen_.insert(h)) continue;
    keep_[i] = 1;
    corpus_new_[i] = dedup_ ? static_cast<uint8_t>(corpus_seen_.insert(h).second) : 1;
    ++doc_.scored;
    if (weights[i] == 0) ++doc_.zero_weight;
    if (corpus_new_[i]) {
      ++corpus_counts_.scored;
      if (weights[i] == 0) ++corpus_counts_.zero_weight;
    }
  }
  scores_.resize(n - first);
  for (size_t k = 0; k < detectors_.size(); ++k) {
    // first >= window_size() and scores_ has room: the call cannot refuse.
    (void)detectors_[k].score_sequence(ids, first, scores_);
    radio::ProbabilityTally tally(detectors_[k].null_model());
    for (size_t i = first; i < n; ++i) {
      if (!keep_[i]) continue;
      const double weight = static_cast<double>(weights[i]) / kWeightGrid;
      tally.add(weight, scores_[i - first]);
      if (corpus_new_[i]) corpus_[k].add(weight, scores_[i - first]);
    }
    doc_.by_key[k] = tally.evaluate();
  }
  return doc_;
}

WeightedDocument WeightedDetection::finish() const {
  WeightedDocument out = corpus_counts_;
  out.by_key.clear();
  for (const radio::ProbabilityTally& t : corpus_) out.by_key.push_back(t.evaluate());
  return out;
}

namespace {

std::vector<double> holm_over_keys(const WeightedDocument& result) {
  std::vector<double> logs;
  for (const radio::ProbabilityEvidence& e : result.by_key) logs.push_back(e.log_p);
  return stats::holm_adjust_log(logs);
}

}  // namespace

nlohmann::json weights_json(const WeightOptions& options, const std::string& model_sha256) {
  return {{"kind", weight_kind_name(options.kind)},
          {"temperature", options.temperature},
          {"top_p", options.top_p},
          {"grid", kWeightGrid},
          {"model_sha256", model_sha256}};
}

Result<std::vector<Detector>> detectors_for(std::span<const KeyRing> keys, const SchemeParams& params) {
  std::vector<Detector> detectors;
  for (const KeyRing& k : keys) {
    auto d = Detector::create(k, params);
    if (!d) return d.status();
    detectors.push_back(std::move(d).value());
  }
  return detectors;
}

bool weighted_detected(const WeightedDocument& result, double alpha) {
  const std::vector<double> adjusted = holm_over_keys(result);
  return std::any_of(adjusted.begin(), adjusted.end(), [&](double a) { return a <= std::log(alpha); });
}

nlohmann::json weighted_json(const WeightedDocument& result, const WeightOptions& options,
                             const std::string& model_sha256, double alpha) {
  nlohmann::json j;
  const std::vector<double> adjusted = holm_over_keys(result);
  j["weights"] = weights_json(options, model_sha256);
  j["scored_tuples"] = result.scored;
  j["zero_weight_tuples"] = result.zero_weight;
  nlohmann::json keys = nlohmann::json::array();
  for (size_t k = 0; k < result.by_key.size(); ++k) {
    const radio::ProbabilityEvidence& e = result.by_key[k];
    keys.push_back({{"statistic", e.statistic},
                    {"expected", e.expected},
                    {"total_weight", e.trials},
                    {"z_score_orientation_only", e.z},
                    {"log10_p_value", stats::log10_from_ln(e.log_p)},
                    {"log10_p_holm", stats::log10_from_ln(adjusted[k])},
                    {"method", e.method_text()},
                    {"exact", e.method == stats::TailMethod::kExactGrid}});
  }
  j["analyses"] = std::move(keys);
  const double best = adjusted.empty() ? 0.0 : *std::min_element(adjusted.begin(), adjusted.end());
  j["p_value"] = std::exp(best);
  j["log10_p_value"] = stats::log10_from_ln(best);
  j["detected"] = best <= std::log(alpha);
  j["null"] = "weighted sum of independent per-token null scores, weights = the model's (key-independent) weights";
  return j;
}

}  // namespace telltale::model
