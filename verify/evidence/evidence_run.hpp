// A detection run that keeps its evidence: the summary, every document, the plot series and the SHA-256 of every
// file read. `telltale detect --bundle` records one; `telltale report verify` runs the same recipe again and compares
// every number (reproduce).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "evidence/record.hpp"
#include "input/tokenizer.hpp"
#include "model/weighted_run.hpp"
#include "score/corpus_scanner.hpp"
#include "score/detection.hpp"
#include "telltale/keyring.hpp"

namespace telltale::evidence {

// The detection setup a recipe describes (tokenizer and keys must outlive it).
score::DetectionSetup detection_setup(const DetectionRecipe& recipe, const input::Tokenizer& tokenizer,
                                      std::span<const KeyRing> keys, unsigned threads);

// The model-aware scan of recipe.model_aware (none without it): the model must have the recorded SHA-256.
Result<std::optional<model::ModelAwareScan>> model_aware_scan(const DetectionRecipe& recipe,
                                                              const input::Tokenizer& tokenizer,
                                                              std::span<const KeyRing> keys);

struct EvidenceRun {
  score::DetectionRun run;
  nlohmann::json summary;    // score::summary_json
  nlohmann::json documents;  // every document's JSON
  nlohmann::json plots;      // EvidenceCollector::plots
  std::vector<InputFile> files;
};

// Runs the recipe, calling `on_document` (if set) for each document too. `software` labels the summary.
// Fails on stdin input (its bytes cannot be hashed afterwards).
Result<EvidenceRun> run_with_evidence(const DetectionRecipe& recipe, const input::Tokenizer& tokenizer,
                                      std::span<const KeyRing> keys, unsigned threads, const std::string& software,
                                      const score::CorpusScanner::DocumentCallback& on_document = {},
                                      const score::CorpusScanner::ProgressCallback& on_progress = {});

// The path, SHA-256 and size of each file read, in order.
Result<std::vector<InputFile>> hash_files(const std::vector<std::string>& paths);

// Checks that `keys` are the record's watermark keys (same number, same ids, same order).
Status check_recorded_keys(const nlohmann::json& record, std::span<const KeyRing> keys);

// Checks that the record's tokenizer and every recorded input file are present (paths as recorded, relative ones in
// the current directory) with the recorded SHA-256. Errors name the file.
Status check_recorded_inputs(const nlohmann::json& record);

// A part of a re-run to compare with the record's field of that name.
using RerunPart = std::pair<const char*, const nlohmann::json*>;
// Compares each part with the record (JSON values as written, doubles bit for bit); a difference names the first
// JSON pointer that differs, e.g. /result/analyses/0/pooled/statistic.
Status compare_with_record(const nlohmann::json& record, std::span<const RerunPart> parts);

// Runs the record's recipe (detection, radioactivity or attribution, by its "test") again with `keys` (their ids must
// be the recorded ones, in order) after check_recorded_inputs, and compares the input files, the result, every
// document and every plot series with the record. The message says what was confirmed.
Result<std::string> reproduce(const nlohmann::json& record, std::span<const KeyRing> keys, unsigned threads);

}  // namespace telltale::evidence
