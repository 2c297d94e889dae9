#include "evidence/evidence_run.hpp"

#include <filesystem>
#include <optional>

#include "evidence/attrib_evidence.hpp"
#include "evidence/evidence_collector.hpp"
#include "evidence/radio_evidence.hpp"
#include "model/weighted_run.hpp"
#include "score/report_json.hpp"

namespace telltale::evidence {

using nlohmann::json;

score::DetectionSetup detection_setup(const DetectionRecipe& recipe, const input::Tokenizer& tokenizer,
                                      std::span<const KeyRing> keys, unsigned threads) {
  score::DetectionSetup setup;
  setup.tokenizer = &tokenizer;
  setup.keys = keys;
  setup.params = recipe.params;
  setup.rules = recipe.rules;
  setup.inputs = recipe.inputs;
  setup.input.field = recipe.field;
  setup.input.split = recipe.split;
  setup.input.skip_bad = recipe.skip_bad;
  setup.scan.threads = threads;
  setup.scan.prompt = recipe.prompt;
  return setup;
}

Result<std::vector<InputFile>> hash_files(const std::vector<std::string>& paths) {
  std::vector<InputFile> files;
  for (const std::string& path : paths) {
    auto digest = input::sha256_file_hex(path);
    if (!digest) return digest.status();
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    files.push_back({path, *digest, ec ? 0 : static_cast<uint64_t>(size)});
  }
  return files;
}

Result<std::optional<model::ModelAwareScan>> model_aware_scan(const DetectionRecipe& recipe,
                                                              const input::Tokenizer& tokenizer,
                                                              std::span<const KeyRing> keys) {
  if (!recipe.model_aware) return std::optional<model::ModelAwareScan>();
  const ModelAwareRecipe& m = *recipe.model_aware;
  const auto kind = model::parse_weight_kind(m.weight);
  if (!kind) return invalid_argument("unknown model-aware weight '" + m.weight + "'");
  auto weigher = model::PositionWeigher::create(m.model, static_cast<uint32_t>(tokenizer.vocab_size()),
                                                {*kind, m.temperature, m.top_p}, model::is_red_green(recipe.params),
                                                model::detection_shape(recipe.params));
  if (!weigher) return Status(weigher.status().code(), "--model: " + weigher.status().message());
  if (weigher->model_sha256() != m.sha256)
    return invalid_argument(m.model + ": SHA-256 differs from the recorded " + m.sha256 + " (a different model)");
  auto scan =
      model::ModelAwareScan::create(std::move(weigher).value(), keys, recipe.params, recipe.rules.dedup, recipe.alpha);
  if (!scan) return scan.status();
  return std::optional<model::ModelAwareScan>(std::move(scan).value());
}

Result<EvidenceRun> run_with_evidence(const DetectionRecipe& recipe, const input::Tokenizer& tokenizer,
                                      std::span<const KeyRing> keys, unsigned threads, const std::string& software,
                                      const score::CorpusScanner::DocumentCallback& on_document,
                                      const score::CorpusScanner::ProgressCallback& on_progress) {
  for (const std::string& in : recipe.inputs) {
    if (in == "-") return invalid_argument("an evidence bundle needs input files, not stdin (their bytes are hashed)");
  }
  const score::DetectionSetup setup = detection_setup(recipe, tokenizer, keys, threads);
  std::vector<score::AnalysisInfo> infos;
  for (const KeyRing& k : keys) {
    auto d = Detector::create(k, recipe.params);
    if (!d) return d.status();
    infos.push_back(score::analysis_info(*d, k.key_id_hex(), recipe.rules, tokenizer.sha256_hex()));
  }
  auto model_aware = model_aware_scan(recipe, tokenizer, keys);
  if (!model_aware) return model_aware.status();
  EvidenceCollector collector(infos, recipe.alpha);
  auto run = score::run_detection(
      setup,
      [&](const input::Document& doc, std::span<const score::DocumentScore> scores) {
        collector.add(doc, scores);
        if (on_document) on_document(doc, scores);
      },
      on_progress, *model_aware ? (*model_aware)->on_tokens() : score::CorpusScanner::TokensCallback());
  if (!run) return run.status();
  EvidenceRun out;
  std::vector<score::CorpusSummary> summaries;
  for (score::PartialResult& r : run->results) summaries.push_back(r.summarize());
  out.summary = score::summary_json(infos, summaries, recipe.alpha, software);
  out.documents = collector.documents();
  if (*model_aware) (*model_aware)->amend(out.summary, out.documents);
  out.plots = collector.plots();
  auto files = hash_files(run->files_read);
  if (!files) return files.status();
  out.files = std::move(files).value();
  out.run = std::move(run).value();
  return out;
}

namespace {

// `path` must have the recorded SHA-256; `why` ends the error otherwise ("a different tokenizer").
Status check_recorded_digest(const std::string& path, const json& recorded, const char* why) {
  auto digest = input::sha256_file_hex(path);
  if (!digest) return digest.status();
  if (*digest != recorded) {
    return invalid_argument(path + ": SHA-256 differs from the recorded " + recorded.get<std::string>() + " (" + why +
                            ")");
  }
  return Status::ok();
}

}  // namespace

Status check_recorded_inputs(const json& record) {
  if (record.contains("recipe") && record["recipe"].contains("model_aware")) {
    const json& m = record["recipe"]["model_aware"];
    if (!m.is_object() || !m.contains("model") || !m["model"].is_string() || !m.contains("sha256") ||
        !m["sha256"].is_string())
      return invalid_argument("record.json: recipe.model_aware needs the model's path and SHA-256 as strings");
    TT_RETURN_IF_ERROR(check_recorded_digest(m["model"].get<std::string>(), m["sha256"], "a different model"));
  }
  TT_RETURN_IF_ERROR(check_recorded_digest(record["tokenizer"]["path"].get<std::string>(),
                                           record["tokenizer"]["sha256"], "a different tokenizer"));
  for (const json& f : record["input_files"]) {
    TT_RETURN_IF_ERROR(check_recorded_digest(f["path"].get<std::string>(), f["sha256"], "the input changed"));
  }
  return Status::ok();
}

Status check_recorded_keys(const json& record, std::span<const KeyRing> keys) {
  const json& recorded_keys = record["watermark_keys"];
  if (keys.size() != recorded_keys.size()) {
    return invalid_argument("the record tested " + std::to_string(recorded_keys.size()) + " key(s); give the same " +
                            "number of --key files, in the same order");
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].key_id_hex() != recorded_keys[i]["key_id"]) {
      return invalid_argument("key " + std::to_string(i + 1) + " has id " + keys[i].key_id_hex() +
                              ", the record's is " + recorded_keys[i]["key_id"].get<std::string>());
    }
  }
  return Status::ok();
}

Status compare_with_record(const json& record, std::span<const RerunPart> parts) {
  for (const auto& [name, value] : parts) {
    const json written = json::parse(value->dump());  // as the record holds it (NaN and infinities become null)
    if (record[name] != written) {
      const json patch = json::diff(record[name], written);
      const std::string where = patch.empty() ? "" : patch[0].value("path", "");
      return invalid_argument(std::string("the re-run differs from the record in /") + name + where);
    }
  }
  return Status::ok();
}

namespace {

Result<std::string> reproduce_detection(const json& record, std::span<const KeyRing> keys, unsigned threads) {
  auto recipe = recipe_from_json(record);
  if (!recipe) return recipe.status();
  auto tokenizer = input::Tokenizer::load(recipe->tokenizer);
  if (!tokenizer) return tokenizer.status();
  auto again = run_with_evidence(*recipe, *tokenizer, keys, threads, record["result"].value("software", ""));
  if (!again) return again.status();
  const json files = input_files_json(again->files);
  const RerunPart parts[] = {
      {"input_files", &files}, {"result", &again->summary}, {"documents", &again->documents}, {"plots", &again->plots}};
  TT_RETURN_IF_ERROR(compare_with_record(record, parts));
  return "re-ran the test on " + std::to_string(again->files.size()) + " input file(s): the result, " +
         std::to_string(again->documents.size()) + " document result(s) and every plotted number are identical";
}

}  // namespace

Result<std::string> reproduce(const json& record, std::span<const KeyRing> keys, unsigned threads) {
  TT_RETURN_IF_ERROR(check_recorded_keys(record, keys));
  TT_RETURN_IF_ERROR(check_recorded_inputs(record));
  if (test_kind(record) == TestKind::kRadioactivity) return reproduce_radioactivity(record, keys.front());
  if (test_kind(record) == TestKind::kAttribution) return reproduce_attribution(record, keys.front(), threads);
  return reproduce_detection(record, keys, threads);
}

}  // namespace telltale::evidence
