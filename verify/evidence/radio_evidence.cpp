#include "evidence/radio_evidence.hpp"

#include <array>

#include "evidence/evidence_collector.hpp"
#include "evidence/evidence_run.hpp"
#include "radio/provenance.hpp"
#include "score/tally.hpp"
#include "stats/tails.hpp"

namespace telltale::evidence {

namespace {

using nlohmann::json;

// Follows the scored tuples in order: the pooled test after every k-th tuple, and the histogram of the scores. It
// pools its own tally of the same scores in the same order as the scorer, so its last point is the reported test.
class TupleSeries {
 public:
  explicit TupleSeries(NullModel null) : null_(null), histogram_(null_bin_mass(null).size(), 0) {}

  void add(double score) {
    tally_.add(score);
    ++histogram_[histogram_bin(null_, score)];
    if (tally_.scored % stride_ != 0) return;
    curve_.push_back(point());
    if (curve_.size() > kMaxTupleCurvePoints) {  // thin out: keep the points on the doubled stride
      stride_ *= 2;
      std::erase_if(curve_,
                    [this](const std::array<double, 2>& p) { return static_cast<uint64_t>(p[0]) % stride_ != 0; });
    }
  }

  json plots(const std::string& key_id) const {
    std::vector<std::array<double, 2>> curve = curve_;
    if (curve.empty() || static_cast<uint64_t>(curve.back()[0]) != tally_.scored) curve.push_back(point());
    json points = json::array();
    for (const auto& p : curve) points.push_back({static_cast<uint64_t>(p[0]), p[1]});
    return json::array({{{"key_id", key_id},
                         {"curve", {{"columns", {"scored_tuples", "log10_p_value"}}, {"points", std::move(points)}}},
                         {"scores", score_histogram_json(null_, histogram_, tally_.scored)}}});
  }

 private:
  std::array<double, 2> point() const {
    const score::Evidence e = score::evaluate(tally_, null_);
    return {static_cast<double>(e.scored), stats::log10_from_ln(e.log_p)};
  }

  NullModel null_;
  score::Tally tally_;
  std::vector<uint64_t> histogram_;
  std::vector<std::array<double, 2>> curve_;
  uint64_t stride_ = 1;
};

Result<radio::SuspectRecipe> radio_recipe_of(const json& record) {
  const json& j = record.at("recipe");
  radio::SuspectRecipe r;
  r.tokenizer = j.at("tokenizer").get<std::string>();
  const std::string mode = j.at("mode").get<std::string>();
  if (mode == "open")
    r.predictions = j.at("predictions").get<std::string>();
  else if (mode == "closed")
    r.answers = j.at("answers").get<std::string>();
  else
    return invalid_argument("record.json: unknown mode '" + mode + "'");
  r.filter = j.at("filter").get<std::string>();
  r.top_k = j.at("top_k").get<uint32_t>();
  // Absent from records made before the suspect tokenizer and the probability score: top-1 on watermark ids.
  r.suspect_tokenizer = j.value("suspect_tokenizer", std::string());
  auto score = radio::parse_score_kind(j.value("score", std::string("top1")));
  if (!score) return invalid_argument("record.json: " + score.status().message());
  r.score = *score;
  // Absent from records made before the first-piece rule: whole tokens only.
  auto alignment = radio::parse_alignment_rule(j.value("alignment", std::string("whole-token")));
  if (!alignment) return invalid_argument("record.json: " + alignment.status().message());
  r.alignment = *alignment;
  auto params = scheme_from_json(j.at("scheme"));
  if (!params) return params.status();
  r.params = *params;
  r.alpha = j.at("alpha").get<double>();
  if (!(r.alpha > 0 && r.alpha < 1)) return invalid_argument("record.json: alpha must be in (0, 1)");
  return r;
}

}  // namespace

json radio_recipe_json(const radio::SuspectRecipe& r) {
  json j = {{"mode", r.predictions.empty() ? "closed" : "open"},
            {"tokenizer", r.tokenizer},
            {"predictions", r.predictions},
            {"answers", r.answers},
            {"filter", r.filter},
            {"top_k", r.top_k},
            {"scheme", scheme_json(r.params)},
            {"alpha", r.alpha}};
  // Written only when they differ from what a record without them means, so older records read the same.
  if (!r.suspect_tokenizer.empty()) j["suspect_tokenizer"] = r.suspect_tokenizer;
  if (r.score != radio::ScoreKind::kTop1) j["score"] = radio::score_kind_name(r.score);
  if (r.alignment != radio::AlignmentRule::kWholeToken) j["alignment"] = radio::alignment_rule_name(r.alignment);
  return j;
}

Result<radio::SuspectRecipe> radio_recipe_from_json(const json& record) {
  try {
    return radio_recipe_of(record);
  } catch (const json::exception& e) {
    return invalid_argument(std::string("record.json: bad recipe: ") + e.what());
  }
}

Result<RadioEvidenceRun> run_radio_with_evidence(const radio::SuspectRecipe& recipe, const input::Tokenizer& tokenizer,
                                                 const KeyRing& key, const radio::SuspectTupleCallback& on_tuple) {
  auto detector = Detector::create(key, recipe.params);
  if (!detector) return detector.status();
  TupleSeries series(detector->null_model());
  auto run = radio::run_suspect_test(recipe, tokenizer, key, [&](const radio::ScoredTuple& t, const std::string& doc) {
    series.add(t.score);
    if (on_tuple) on_tuple(t, doc);
  });
  if (!run) return run.status();
  auto files = hash_files(run->files_read);
  if (!files) return files.status();
  RadioEvidenceRun out;
  out.plots = series.plots(key.key_id_hex());
  out.files = std::move(files).value();
  out.run = std::move(run).value();
  return out;
}

json make_radio_record(const RunContext& context, const radio::SuspectRecipe& recipe, json result, json plots) {
  json record = make_record_base(context, recipe.tokenizer);
  record["test"] = kRadioactivityTest;
  record["recipe"] = radio_recipe_json(recipe);
  record["result"] = std::move(result);
  record["plots"] = std::move(plots);
  return record;
}

Result<std::string> reproduce_radioactivity(const json& record, const KeyRing& key) {
  auto recipe = radio_recipe_from_json(record);
  if (!recipe) return recipe.status();
  auto tokenizer = input::Tokenizer::load(recipe->tokenizer);
  if (!tokenizer) return tokenizer.status();
  // --provenance: the recorded file name is carried over; its SHA-256 is recomputed from the re-run's tuples.
  auto provenance = radio::ProvenanceWriter::create("");
  if (!provenance) return provenance.status();
  auto again = run_radio_with_evidence(*recipe, *tokenizer, key, provenance->callback());
  if (!again) return again.status();
  auto provenance_sha256 = provenance->finish();
  if (!provenance_sha256) return provenance_sha256.status();
  json result = again->run.result;
  if (record["result"].contains("provenance")) result["provenance"] = record["result"]["provenance"];
  if (record["result"].contains("provenance_sha256")) result["provenance_sha256"] = *provenance_sha256;
  const json files = input_files_json(again->files);
  const RerunPart parts[] = {{"input_files", &files}, {"result", &result}, {"plots", &again->plots}};
  TT_RETURN_IF_ERROR(compare_with_record(record, parts));
  return "re-scored the suspect's " + std::string(recipe->predictions.empty() ? "answers" : "predictions") + " (" +
         std::to_string(again->files.size()) + " input file(s)): the result, " +
         std::to_string(result["scored_tuples"].get<uint64_t>()) +
         " scored tuples and every plotted number are identical";
}

}  // namespace telltale::evidence
