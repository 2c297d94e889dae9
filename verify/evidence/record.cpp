#include "evidence/record.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "evidence/json_limits.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::evidence {

namespace {

using nlohmann::json;

const char* split_name(input::TextSplit s) {
  switch (s) {
    case input::TextSplit::kParagraph: return "paragraph";
    case input::TextSplit::kLine: return "line";
    case input::TextSplit::kFile: return "file";
  }
  return "file";
}

enum class Kind { kString, kNumber, kUnsigned, kBool, kObject, kArray, kHex64 };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kString: return "a string";
    case Kind::kNumber: return "a number";
    case Kind::kUnsigned: return "a non-negative integer";
    case Kind::kBool: return "true or false";
    case Kind::kObject: return "an object";
    case Kind::kArray: return "an array";
    case Kind::kHex64: return "64 lowercase hex digits";
  }
  return "";
}

bool is_hex64(const json& j) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool has_kind(const json& j, Kind k) {
  switch (k) {
    case Kind::kString: return j.is_string();
    case Kind::kNumber: return j.is_number();
    case Kind::kUnsigned: return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
    case Kind::kBool: return j.is_boolean();
    case Kind::kObject: return j.is_object();
    case Kind::kArray: return j.is_array();
    case Kind::kHex64: return is_hex64(j);
  }
  return false;
}

Status require(const json& record, const std::string& pointer, Kind kind) {
  const json::json_pointer p(pointer);
  if (!record.contains(p)) return invalid_argument("record.json: missing field " + pointer);
  if (!has_kind(record.at(p), kind)) {
    return invalid_argument(std::string("record.json: field ") + pointer + " must be " + kind_name(kind));
  }
  return Status::ok();
}

Status require_each(const json& array, const std::string& pointer,
                    const std::vector<std::pair<std::string, Kind>>& fields) {
  for (size_t i = 0; i < array.size(); ++i) {
    for (const auto& [name, kind] : fields) {
      if (!require(array[i], "/" + name, kind).is_ok()) {
        return invalid_argument("record.json: " + pointer + "/" + std::to_string(i) + "/" + name +
                                " is missing or not " + kind_name(kind));
      }
    }
  }
  return Status::ok();
}

}  // namespace

json scheme_json(const SchemeParams& p) {
  json j = {{"name", scheme_name(p.scheme)},
            {"vocab_size", p.vocab_size},
            {"context_width", p.context_width},
            {"self_hash", p.self_hash},
            {"skip_repeated_contexts", p.skip_repeated_contexts},
            {"context_history", p.context_history},
            {"configuration", describe(p)}};
  // The scheme table's fields, each under its one name: those the scheme reads, and those every record carries.
  for (const SchemeField& f : scheme_fields()) {
    if (!f.applies_to(p.scheme) && !f.recorded_for_every_scheme) continue;
    const double v = f.get(p);
    switch (f.type) {
      case SchemeField::Type::kFraction: j[f.name] = v; break;
      case SchemeField::Type::kLogits: j[f.name] = static_cast<float>(v); break;
      case SchemeField::Type::kCount: j[f.name] = static_cast<uint32_t>(v); break;
      case SchemeField::Type::kChoice: j[f.name] = f.choices[static_cast<size_t>(v)]; break;
    }
  }
  return j;
}

json recipe_json(const DetectionRecipe& r) {
  json j = {
      {"tokenizer", r.tokenizer},
      {"inputs", r.inputs},
      {"field", r.field},
      {"split", split_name(r.split)},
      {"prompt", r.prompt},
      {"skip_bad", r.skip_bad},
      {"scheme", scheme_json(r.params)},
      {"rules", {{"dedup", r.rules.dedup}, {"window_min", r.rules.window_min}, {"window_ratio", r.rules.window_ratio}}},
      {"alpha", r.alpha}};
  if (r.model_aware) {
    const ModelAwareRecipe& m = *r.model_aware;
    j["model_aware"] = {{"model", m.model},
                        {"sha256", m.sha256},
                        {"weight", m.weight},
                        {"temperature", m.temperature},
                        {"top_p", m.top_p}};
  }
  return j;
}

Result<SchemeParams> scheme_from_json(const json& s) {
  const std::string name = s.at("name").get<std::string>();
  const std::optional<SchemeKind> kind = parse_scheme(name);
  if (!kind) return invalid_argument("record.json: unknown scheme '" + name + "'");
  SchemeParams p = default_params(*kind, s.at("vocab_size").get<uint32_t>());
  p.context_width = s.at("context_width").get<uint32_t>();
  p.self_hash = s.at("self_hash").get<bool>();
  p.skip_repeated_contexts = s.at("skip_repeated_contexts").get<bool>();
  p.context_history = s.at("context_history").get<uint32_t>();
  for (const SchemeField& f : scheme_fields()) {
    if (!f.applies_to(*kind) && !f.recorded_for_every_scheme) continue;
    const json& v = s.at(f.name);
    switch (f.type) {
      case SchemeField::Type::kFraction: f.set(p, v.get<double>()); break;
      case SchemeField::Type::kLogits: f.set(p, static_cast<double>(v.get<float>())); break;
      case SchemeField::Type::kCount: f.set(p, static_cast<double>(v.get<uint32_t>())); break;
      case SchemeField::Type::kChoice: {
        const std::string text = v.get<std::string>();
        const auto it = std::find(f.choices.begin(), f.choices.end(), text);
        if (it == f.choices.end()) {
          return invalid_argument("record.json: unknown " + std::string(f.label) + " '" + text + "'");
        }
        f.set(p, static_cast<double>(it - f.choices.begin()));
        break;
      }
    }
  }
  TT_RETURN_IF_ERROR(validate(p));
  if (describe(p) != s.at("configuration").get<std::string>()) {
    return invalid_argument("record.json: the scheme's parameters do not give its recorded configuration");
  }
  return p;
}

namespace {

Result<DetectionRecipe> recipe_of(const json& record) {
  const json& j = record.at("recipe");
  DetectionRecipe r;
  r.tokenizer = j.at("tokenizer").get<std::string>();
  r.inputs = j.at("inputs").get<std::vector<std::string>>();
  r.field = j.at("field").get<std::string>();
  const std::string split = j.at("split").get<std::string>();
  if (split == "paragraph")
    r.split = input::TextSplit::kParagraph;
  else if (split == "line")
    r.split = input::TextSplit::kLine;
  else if (split != "file")
    return invalid_argument("record.json: unknown split '" + split + "'");
  r.prompt = j.at("prompt").get<std::string>();
  r.skip_bad = j.at("skip_bad").get<bool>();
  auto params = scheme_from_json(j.at("scheme"));
  if (!params) return params.status();
  r.params = *params;
  const json& rules = j.at("rules");
  r.rules.dedup = rules.at("dedup").get<bool>();
  r.rules.window_min = rules.at("window_min").get<uint64_t>();
  r.rules.window_ratio = rules.at("window_ratio").get<double>();
  r.alpha = j.at("alpha").get<double>();
  if (!(r.alpha > 0 && r.alpha < 1)) return invalid_argument("record.json: alpha must be in (0, 1)");
  if (j.contains("model_aware")) {
    const json& m = j.at("model_aware");
    r.model_aware = ModelAwareRecipe{m.at("model").get<std::string>(), m.at("sha256").get<std::string>(),
                                     m.at("weight").get<std::string>(), m.at("temperature").get<double>(),
                                     m.at("top_p").get<double>()};
  }
  return r;
}

}  // namespace

Result<DetectionRecipe> recipe_from_json(const json& record) {
  try {
    return recipe_of(record);
  } catch (const json::exception& e) {
    return invalid_argument(std::string("record.json: bad recipe: ") + e.what());
  }
}

json make_record_base(const RunContext& c, const std::string& tokenizer_path) {
  json keys = json::array();
  for (const std::string& id : c.key_ids) keys.push_back({{"key_id", id}, {"key_id_scheme", kKeyIdScheme}});
  return {{"format", kRecordFormat},
          {"created_utc", c.created_utc},
          {"software",
           {{"name", "telltale"},
            {"version", c.version},
            {"source_commit", c.source_commit},
            {"executable_sha256", c.executable_sha256}}},
          {"command_line", c.command_line},
          {"working_directory", c.working_directory},
          {"watermark_keys", std::move(keys)},
          {"tokenizer",
           {{"path", tokenizer_path},
            {"kind", c.tokenizer_kind},
            {"sha256", c.tokenizer_sha256},
            {"vocab_size", c.vocab_size}}},
          {"input_files", input_files_json(c.files)},
          {"signer",
           {{"algorithm", "ed25519"}, {"public_key", c.signer_public_key}, {"public_key_id", c.signer_public_key_id}}}};
}

json input_files_json(const std::vector<InputFile>& files) {
  json out = json::array();
  for (const InputFile& f : files) out.push_back({{"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}});
  return out;
}

json make_record(const RunContext& c, const DetectionRecipe& recipe, json summary, json documents, json plots) {
  json record = make_record_base(c, recipe.tokenizer);
  record["recipe"] = recipe_json(recipe);
  record["result"] = std::move(summary);
  record["documents"] = std::move(documents);
  record["plots"] = std::move(plots);
  return record;
}

namespace {

using FieldList = std::vector<std::pair<std::string, Kind>>;

// The fields every record holds, whatever it tested: the run's context, the signer and the headline result.
const FieldList kContextFields = {
    {"/created_utc", Kind::kString},
    {"/software", Kind::kObject},
    {"/software/name", Kind::kString},
    {"/software/version", Kind::kString},
    {"/software/source_commit", Kind::kString},
    {"/software/executable_sha256", Kind::kHex64},
    {"/command_line", Kind::kArray},
    {"/working_directory", Kind::kString},
    {"/watermark_keys", Kind::kArray},
    {"/tokenizer/path", Kind::kString},
    {"/tokenizer/sha256", Kind::kHex64},
    {"/tokenizer/vocab_size", Kind::kUnsigned},
    {"/input_files", Kind::kArray},
    {"/recipe", Kind::kObject},
    {"/recipe/tokenizer", Kind::kString},
    {"/recipe/scheme", Kind::kObject},
    {"/recipe/scheme/name", Kind::kString},
    {"/recipe/scheme/vocab_size", Kind::kUnsigned},
    {"/recipe/scheme/context_width", Kind::kUnsigned},
    {"/recipe/scheme/self_hash", Kind::kBool},
    {"/recipe/scheme/skip_repeated_contexts", Kind::kBool},
    {"/recipe/scheme/context_history", Kind::kUnsigned},
    {"/recipe/scheme/gamma", Kind::kNumber},
    {"/recipe/scheme/delta", Kind::kNumber},
    {"/recipe/scheme/layers", Kind::kUnsigned},
    {"/recipe/scheme/tournament_score", Kind::kString},
    {"/recipe/scheme/configuration", Kind::kString},
    {"/recipe/alpha", Kind::kNumber},
    {"/signer/algorithm", Kind::kString},
    {"/signer/public_key", Kind::kHex64},
    {"/signer/public_key_id", Kind::kHex64},
    {"/result", Kind::kObject},
    {"/result/p_value", Kind::kNumber},
    {"/result/log10_p_value", Kind::kNumber},
    {"/result/alpha", Kind::kNumber},
    {"/plots", Kind::kArray},
};

// The recipe of a test that scans text inputs (detection, attribution): DetectionRecipe's fields.
const FieldList kTextRecipeFields = {
    {"/recipe/inputs", Kind::kArray},
    {"/recipe/field", Kind::kString},
    {"/recipe/split", Kind::kString},
    {"/recipe/prompt", Kind::kString},
    {"/recipe/skip_bad", Kind::kBool},
    {"/recipe/rules/dedup", Kind::kBool},
    {"/recipe/rules/window_min", Kind::kUnsigned},
    {"/recipe/rules/window_ratio", Kind::kNumber},
};

const FieldList kDetectionFields = {
    {"/result/scored_tokens", Kind::kUnsigned}, {"/result/analyses", Kind::kArray},
    {"/result/software", Kind::kString},        {"/documents", Kind::kArray},
    {"/result/detected", Kind::kBool},
};

const FieldList kRadioactivityFields = {
    {"/recipe/mode", Kind::kString},
    {"/recipe/predictions", Kind::kString},
    {"/recipe/answers", Kind::kString},
    {"/recipe/filter", Kind::kString},
    {"/recipe/top_k", Kind::kUnsigned},
    {"/result/mode", Kind::kString},
    {"/result/scored_tuples", Kind::kUnsigned},
    {"/result/key_id", Kind::kHex64},
    {"/result/counts", Kind::kObject},
    {"/result/detected", Kind::kBool},
};

// Besides the text recipe: the registry and --top; the result as `attribute` prints it.
const FieldList kAttributionFields = {
    {"/recipe/registry", Kind::kString},     {"/recipe/top", Kind::kUnsigned},
    {"/result/attributed", Kind::kBool},     {"/result/accounts_tested", Kind::kUnsigned},
    {"/result/hypotheses", Kind::kUnsigned}, {"/result/accusations", Kind::kArray},
    {"/result/accounts", Kind::kArray},      {"/result/zero_bit", Kind::kObject},
    {"/result/software", Kind::kString},
};

Status require_all(const json& record, const FieldList& fields) {
  for (const auto& [pointer, kind] : fields) TT_RETURN_IF_ERROR(require(record, pointer, kind));
  return Status::ok();
}

// Every plot's curve holds points of `width` numbers.
Status require_curves(const json& plots, size_t width) {
  const std::string shape = width == 3 ? "[n, n, x]" : "[n, x]";
  for (size_t a = 0; a < plots.size(); ++a) {
    const json& curve = plots[a]["curve"];
    if (!curve.contains("points") || !curve["points"].is_array()) {
      return invalid_argument("record.json: /plots/" + std::to_string(a) + "/curve/points must be an array");
    }
    for (const json& p : curve["points"]) {
      const bool numbers = p.is_array() && p.size() == width &&
                           std::all_of(p.begin(), p.end(), [](const json& v) { return v.is_number(); });
      if (!numbers) {
        return invalid_argument("record.json: /plots/" + std::to_string(a) + "/curve/points must hold " + shape);
      }
    }
  }
  return Status::ok();
}

Status check_text_recipe(const json& j) {
  TT_RETURN_IF_ERROR(require_all(j, kTextRecipeFields));
  for (const json& s : j["recipe"]["inputs"]) {
    if (!s.is_string()) return invalid_argument("record.json: /recipe/inputs must hold strings");
  }
  return Status::ok();
}

Status check_detection(const json& j) {
  TT_RETURN_IF_ERROR(check_text_recipe(j));
  TT_RETURN_IF_ERROR(require_all(j, kDetectionFields));
  TT_RETURN_IF_ERROR(require_each(j["documents"], "/documents",
                                  {{"source", Kind::kString},
                                   {"p_value", Kind::kNumber},
                                   {"log10_p_value", Kind::kNumber},
                                   {"detected", Kind::kBool}}));
  TT_RETURN_IF_ERROR(require_curves(j["plots"], 3));
  for (size_t a = 0; a < j["plots"].size(); ++a) {
    for (const char* part : {"scores", "window"}) {
      if (!j["plots"][a].contains(part)) {
        return invalid_argument("record.json: /plots/" + std::to_string(a) + "/" + part + " is missing");
      }
    }
  }
  return Status::ok();
}

Status check_radioactivity(const json& j) {
  TT_RETURN_IF_ERROR(require_all(j, kRadioactivityFields));
  const std::string mode = j["recipe"]["mode"].get<std::string>();
  if (mode != "open" && mode != "closed") return invalid_argument("record.json: /recipe/mode must be open or closed");
  const bool open = mode == "open";
  if (j["recipe"]["predictions"].get<std::string>().empty() != !open ||
      j["recipe"]["answers"].get<std::string>().empty() != open) {
    return invalid_argument("record.json: /recipe/" + std::string(open ? "predictions" : "answers") +
                            " must name the file of " + mode + " mode (and only it)");
  }
  if (j["plots"].size() != 1) return invalid_argument("record.json: /plots must hold one plot (one key)");
  if (!j["plots"][0].contains("scores")) return invalid_argument("record.json: /plots/0/scores is missing");
  return require_curves(j["plots"], 2);
}

Status check_attribution(const json& j) {
  TT_RETURN_IF_ERROR(check_text_recipe(j));
  TT_RETURN_IF_ERROR(require_all(j, kAttributionFields));
  TT_RETURN_IF_ERROR(require_each(j["result"]["accusations"], "/result/accusations",
                                  {{"account", Kind::kUnsigned}, {"log10_p_value_holm", Kind::kNumber}}));
  if (j["plots"].size() != 1) return invalid_argument("record.json: /plots must hold one plot (one key)");
  return require_curves(j["plots"], 3);
}

}  // namespace

TestKind test_kind(const json& record) {
  const std::string test = record.value("test", std::string(kDetectionTest));
  if (test == kRadioactivityTest) return TestKind::kRadioactivity;
  if (test == kAttributionTest) return TestKind::kAttribution;
  return TestKind::kDetection;
}

const char* test_name(TestKind kind) {
  switch (kind) {
    case TestKind::kRadioactivity: return kRadioactivityTest;
    case TestKind::kAttribution: return kAttributionTest;
    case TestKind::kDetection: return kDetectionTest;
  }
  return kDetectionTest;
}

Result<json> parse_record(std::string_view bytes) {
  if (bytes.size() > kMaxRecordBytes) {
    return invalid_argument("record.json: larger than " + std::to_string(kMaxRecordBytes >> 20) + " MiB");
  }
  TT_RETURN_IF_ERROR(check_json_depth(bytes, "record.json"));
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded()) return invalid_argument("record.json: not valid JSON");
  if (!j.is_object()) return invalid_argument("record.json: not a JSON object");
  if (!j.contains("format") || j["format"] != kRecordFormat) {
    return invalid_argument(std::string("record.json: format is not ") + kRecordFormat);
  }
  // A record without "test" is a detection record (the records made before radioactivity bundles existed).
  if (j.contains("test") && j["test"] != kDetectionTest && j["test"] != kRadioactivityTest &&
      j["test"] != kAttributionTest) {
    return invalid_argument(std::string("record.json: field /test must be \"") + kDetectionTest + "\", \"" +
                            kRadioactivityTest + "\" or \"" + kAttributionTest + "\"");
  }
  TT_RETURN_IF_ERROR(require_all(j, kContextFields));
  for (const json& s : j["command_line"]) {
    if (!s.is_string()) return invalid_argument("record.json: /command_line must hold strings");
  }
  TT_RETURN_IF_ERROR(require_each(j["watermark_keys"], "/watermark_keys",
                                  {{"key_id", Kind::kHex64}, {"key_id_scheme", Kind::kString}}));
  if (j["watermark_keys"].empty()) return invalid_argument("record.json: /watermark_keys is empty");
  TT_RETURN_IF_ERROR(require_each(j["input_files"], "/input_files",
                                  {{"path", Kind::kString}, {"sha256", Kind::kHex64}, {"bytes", Kind::kUnsigned}}));
  TT_RETURN_IF_ERROR(require_each(j["plots"], "/plots", {{"key_id", Kind::kHex64}, {"curve", Kind::kObject}}));
  switch (test_kind(j)) {
    case TestKind::kRadioactivity: TT_RETURN_IF_ERROR(check_radioactivity(j)); break;
    case TestKind::kAttribution: TT_RETURN_IF_ERROR(check_attribution(j)); break;
    case TestKind::kDetection: TT_RETURN_IF_ERROR(check_detection(j)); break;
  }
  return j;
}

std::string once_in(double log10_p) {
  if (!(log10_p < 0)) return "about every time";
  const double n = -log10_p;  // once in 10^n
  if (n < 3) return fmt::format("about once in {:.0f}", std::pow(10.0, n));
  if (n < 6) return fmt::format("about once in {:.0f} thousand", std::pow(10.0, n - 3));
  if (n < 9) return fmt::format("about once in {:.0f} million", std::pow(10.0, n - 6));
  if (n < 12) return fmt::format("about once in {:.0f} billion", std::pow(10.0, n - 9));
  return fmt::format("about once in 10^{0:.0f} (a one followed by {0:.0f} zeros)", std::floor(n));
}

}  // namespace telltale::evidence
