// The evidence record (record.json of a bundle, format telltale-evidence-1, spec/evidence-bundle.md): what was
// tested, how, on exactly which bytes, with which key commitment, by which software, and the results. The recipe part
// is enough to run the same test again; the reader checks every field the schema requires before anyone uses it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "input/document_source.hpp"
#include "score/document_scorer.hpp"
#include "telltale/scheme.hpp"
#include "telltale/status.hpp"

namespace telltale::evidence {

inline constexpr const char* kRecordFormat = "telltale-evidence-1";
// How the key id commits to the secret (spec/key-file.md section 5.1).
inline constexpr const char* kKeyIdScheme = "sha256(\"telltale key id v1\" || secret)";

// The kind of test a record holds, in its "test" field; a record without one is a detection record.
inline constexpr const char* kDetectionTest = "detection";
inline constexpr const char* kRadioactivityTest = "radioactivity";
inline constexpr const char* kAttributionTest = "attribution";
enum class TestKind { kDetection, kRadioactivity, kAttribution };
TestKind test_kind(const nlohmann::json& record);
// The name of a kind, as the "test" field writes it.
const char* test_name(TestKind kind);

// A scheme's parameters as a recipe states them (every SchemeParams field and "configuration" = describe(params)),
// and back, refusing parameters that do not give the recorded configuration. Reading throws json::exception on a
// missing field (callers catch it).
nlohmann::json scheme_json(const SchemeParams& params);
Result<SchemeParams> scheme_from_json(const nlohmann::json& scheme);

// The model-aware test's choice (`detect --model`, spec/statistics.md section 8): the model file as given, its
// SHA-256 (an input: a re-run refuses another model) and the weight options.
struct ModelAwareRecipe {
  std::string model;
  std::string sha256;
  std::string weight = "expected-gain";
  double temperature = 1.0;
  double top_p = 0.9;
};

// Everything `detect` needs besides the keys, as the record states it.
struct DetectionRecipe {
  std::string tokenizer;            // path, as given
  std::vector<std::string> inputs;  // paths, as given (relative ones resolve in the recorded working directory)
  std::string field;
  input::TextSplit split = input::TextSplit::kFile;
  std::string prompt;
  bool skip_bad = false;
  SchemeParams params;
  score::ScoringRules rules;
  double alpha = 1e-3;
  std::optional<ModelAwareRecipe> model_aware;  // none: the plain test (and no "model_aware" in the record)
};
nlohmann::json recipe_json(const DetectionRecipe& recipe);
Result<DetectionRecipe> recipe_from_json(const nlohmann::json& record);

struct InputFile {
  std::string path;  // as read (files found in a directory: dir/sub/file)
  std::string sha256;
  uint64_t bytes = 0;
};

// The circumstances of a run, gathered by the command line.
struct RunContext {
  std::string created_utc;                // ISO 8601, e.g. 2026-12-02T13:40:00Z
  std::vector<std::string> command_line;  // argv
  std::string working_directory;
  std::string version;               // telltale's version
  std::string source_commit;         // the git commit the build was configured from ("unknown" outside git)
  std::string executable_sha256;     // SHA-256 of the running executable: the build id
  std::vector<std::string> key_ids;  // the watermark keys' public ids, in --key order
  std::string tokenizer_sha256;
  std::string tokenizer_kind;  // "sentencepiece" or "gguf" (input::tokenizer_kind_name)
  uint32_t vocab_size = 0;
  std::vector<InputFile> files;
  std::string signer_public_key;     // hex
  std::string signer_public_key_id;  // hex
};

// The fields of a record that say how the run happened, whatever it tested: format, time, software, command line,
// working directory, keys, tokenizer, input files and signer.
nlohmann::json make_record_base(const RunContext& context, const std::string& tokenizer_path);
nlohmann::json input_files_json(const std::vector<InputFile>& files);

// A detection record: context, recipe, the summary (score::summary_json), every document and the plot series.
nlohmann::json make_record(const RunContext& context, const DetectionRecipe& recipe, nlohmann::json summary,
                           nlohmann::json documents, nlohmann::json plots);

// Parses record.json bytes and checks the structure the schema requires for the record's kind of test (format, every
// required field with its type, hex digests of the right length). Errors say which field is wrong.
Result<nlohmann::json> parse_record(std::string_view bytes);

// The plain-language phrase for a p-value: "about once in 3.2 million", "about once in 10^412" (from log10 p).
std::string once_in(double log10_p);

}  // namespace telltale::evidence
