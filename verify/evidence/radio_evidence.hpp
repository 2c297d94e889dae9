// A radioactivity test that keeps its evidence (`telltale radioactivity score --bundle`): the recipe as the record
// states it, the series the report plots (the pooled test as tuples are scored, the scores against their null law),
// the SHA-256 of every file read, and the re-run that `telltale report verify --key` compares with the record.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "evidence/record.hpp"
#include "input/tokenizer.hpp"
#include "radio/suspect_run.hpp"
#include "telltale/keyring.hpp"

namespace telltale::evidence {

// At most about this many points of the curve are kept: one every k scored tuples, k doubling as needed, and the
// last tuple always.
inline constexpr size_t kMaxTupleCurvePoints = 256;

nlohmann::json radio_recipe_json(const radio::SuspectRecipe& recipe);
Result<radio::SuspectRecipe> radio_recipe_from_json(const nlohmann::json& record);

struct RadioEvidenceRun {
  radio::SuspectRun run;
  nlohmann::json plots;  // one object: key_id, curve, scores
  std::vector<InputFile> files;
};

// Runs the test, passing every scored tuple on to `on_tuple` (if set) too.
Result<RadioEvidenceRun> run_radio_with_evidence(const radio::SuspectRecipe& recipe, const input::Tokenizer& tokenizer,
                                                 const KeyRing& key, const radio::SuspectTupleCallback& on_tuple = {});

// The record (test "radioactivity"): context, recipe, the result as `radioactivity score` printed it, the plots.
nlohmann::json make_radio_record(const RunContext& context, const radio::SuspectRecipe& recipe, nlohmann::json result,
                                 nlohmann::json plots);

// Re-scores the record's recipe with `key` (reproduce has checked the key id and the recorded inputs) and compares
// the input files, the result and the plots with the record.
Result<std::string> reproduce_radioactivity(const nlohmann::json& record, const KeyRing& key);

}  // namespace telltale::evidence
