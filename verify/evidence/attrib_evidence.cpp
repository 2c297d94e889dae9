#include "evidence/attrib_evidence.hpp"

#include <span>

#include "evidence/evidence_run.hpp"

namespace telltale::evidence {

using nlohmann::json;

json attrib_recipe_json(const AttributionRecipe& r) {
  json j = recipe_json(r.detection);
  j["registry"] = r.registry;
  j["top"] = r.top;
  return j;
}

Result<AttributionRecipe> attrib_recipe_from_json(const json& record) {
  auto detection = recipe_from_json(record);
  if (!detection) return detection.status();
  AttributionRecipe r;
  r.detection = std::move(detection).value();
  try {
    r.registry = record.at("recipe").at("registry").get<std::string>();
    r.top = record.at("recipe").at("top").get<size_t>();
  } catch (const json::exception& e) {
    return invalid_argument(std::string("record.json: bad recipe: ") + e.what());
  }
  return r;
}

Result<AttribEvidenceRun> run_attrib_with_evidence(const AttributionRecipe& recipe, const input::Tokenizer& tokenizer,
                                                   const KeyRing& key, const attrib::AccountRegistry& registry,
                                                   unsigned threads, const std::string& software,
                                                   const attrib::DocumentLineCallback& on_line,
                                                   const score::CorpusScanner::ProgressCallback& on_progress) {
  for (const std::string& in : recipe.detection.inputs) {
    if (in == "-") return invalid_argument("an evidence bundle needs input files, not stdin (their bytes are hashed)");
  }
  attrib::AttributionOptions options;
  options.alpha = recipe.detection.alpha;
  options.top = recipe.top;
  const score::DetectionSetup setup = detection_setup(recipe.detection, tokenizer, std::span(&key, 1), threads);
  auto run = attrib::run_attribution(setup, registry, options, software, on_line, on_progress);
  if (!run) return run.status();
  std::vector<std::string> read = run->scan.files_read;
  read.push_back(recipe.registry);  // the registry decides the family: its bytes are evidence too
  auto files = hash_files(read);
  if (!files) return files.status();
  json points = json::array();
  for (const auto& p : run->best_by_document) {
    points.push_back({static_cast<uint64_t>(p[0]), static_cast<uint64_t>(p[1]), p[2]});
  }
  AttribEvidenceRun out;
  out.plots = json::array(
      {{{"key_id", key.key_id_hex()},
        {"curve", {{"columns", {"document", "best_account", "log10_p_value_holm"}}, {"points", std::move(points)}}}}});
  out.files = std::move(files).value();
  out.run = std::move(run).value();
  return out;
}

json make_attrib_record(const RunContext& context, const AttributionRecipe& recipe, json result, json plots) {
  json record = make_record_base(context, recipe.detection.tokenizer);
  record["test"] = kAttributionTest;
  record["recipe"] = attrib_recipe_json(recipe);
  record["result"] = std::move(result);
  record["plots"] = std::move(plots);
  return record;
}

Result<std::string> reproduce_attribution(const json& record, const KeyRing& key, unsigned threads) {
  auto recipe = attrib_recipe_from_json(record);
  if (!recipe) return recipe.status();
  auto tokenizer = input::Tokenizer::load(recipe->detection.tokenizer);
  if (!tokenizer) return tokenizer.status();
  auto registry = attrib::AccountRegistry::read_file(recipe->registry);
  if (!registry) return registry.status();
  auto again =
      run_attrib_with_evidence(*recipe, *tokenizer, key, *registry, threads, record["result"].value("software", ""));
  if (!again) return again.status();
  const json files = input_files_json(again->files);
  const RerunPart parts[] = {{"input_files", &files}, {"result", &again->run.result}, {"plots", &again->plots}};
  TT_RETURN_IF_ERROR(compare_with_record(record, parts));
  return "re-ran the attribution on " + std::to_string(again->files.size()) + " input file(s) (the registry's " +
         std::to_string(registry->size()) + " accounts): the result and every plotted number are identical";
}

}  // namespace telltale::evidence
