// One attribution from start to finish: scan the inputs with the fingerprint key, test every registered account per
// document and over the pooled corpus, and state the result as the JSON `telltale attribute` prints. The command
// line and the evidence re-run both call it, so a bundle's re-run takes exactly the path the first run took.
#pragma once

#include <array>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "attrib/account_registry.hpp"
#include "attrib/attribution.hpp"
#include "score/detection.hpp"
#include "telltale/status.hpp"

namespace telltale::attrib {

// A document's line as `attribute --per-doc` prints it (attribution_json.hpp), in input order.
using DocumentLineCallback = std::function<void(const nlohmann::json& line)>;

struct AttributionRun {
  nlohmann::json result;  // the summary `attribute` prints (corpus_attribution_json with "software")
  bool attributed = false;
  // Per document in input order: its number (0-based), its best account and that account's log10 p-value after
  // Holm over the registry; documents with no scored context are left out.
  std::vector<std::array<double, 3>> best_by_document;
  score::DetectionRun scan;  // skipped documents and the files read
};

// Model-aware attribution: writes the weight, in grid units, of each of a document's ids (model/position_weights.hpp).
using WeightsCallback = std::function<void(std::span<const int32_t> ids, std::vector<uint32_t>& weights)>;

// Runs the attribution. `setup` holds exactly one key and fingerprint-scheme parameters; `software` labels the
// summary; `on_line` (may be empty) receives each document's line. With options.weighted, `weigh` gives each
// document's weights. Errors name the input or the key.
Result<AttributionRun> run_attribution(const score::DetectionSetup& setup, const AccountRegistry& registry,
                                       const AttributionOptions& options, const std::string& software,
                                       const DocumentLineCallback& on_line = {},
                                       const score::CorpusScanner::ProgressCallback& on_progress = {},
                                       const WeightsCallback& weigh = {});

}  // namespace telltale::attrib
