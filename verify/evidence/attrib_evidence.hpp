// An attribution that keeps its evidence (`telltale attribute --bundle`): the recipe as the record states it (the
// detection recipe plus the registry file and --top), the per-document plot series, the SHA-256 of every file read
// (the inputs, then the registry), and the re-run that `telltale report verify --key` compares with the record.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attrib/attribution_run.hpp"
#include "evidence/record.hpp"
#include "input/tokenizer.hpp"
#include "telltale/keyring.hpp"

namespace telltale::evidence {

struct AttributionRecipe {
  DetectionRecipe detection;  // inputs, field, split, prompt, scheme (fingerprint), rules, alpha
  std::string registry;       // the registry file's path, as given
  size_t top = 3;             // accounts listed per test besides the attributed ones
};
nlohmann::json attrib_recipe_json(const AttributionRecipe& recipe);
Result<AttributionRecipe> attrib_recipe_from_json(const nlohmann::json& record);

struct AttribEvidenceRun {
  attrib::AttributionRun run;
  nlohmann::json plots;  // one object: key_id, curve (document, best account, its log10 p after Holm)
  std::vector<InputFile> files;
};

// Runs the attribution of `recipe` over `registry` (read from recipe.registry), as `attribute` does. Fails on stdin
// input (its bytes cannot be hashed afterwards).
Result<AttribEvidenceRun> run_attrib_with_evidence(const AttributionRecipe& recipe, const input::Tokenizer& tokenizer,
                                                   const KeyRing& key, const attrib::AccountRegistry& registry,
                                                   unsigned threads, const std::string& software,
                                                   const attrib::DocumentLineCallback& on_line = {},
                                                   const score::CorpusScanner::ProgressCallback& on_progress = {});

// The record (test "attribution"): context, recipe, the result as `attribute` printed it, the plots.
nlohmann::json make_attrib_record(const RunContext& context, const AttributionRecipe& recipe, nlohmann::json result,
                                  nlohmann::json plots);

// Re-runs the record's recipe with `key` (reproduce has checked the key id and the recorded files, registry
// included) and compares the input files, the result and the plots with the record.
Result<std::string> reproduce_attribution(const nlohmann::json& record, const KeyRing& key, unsigned threads);

}  // namespace telltale::evidence
