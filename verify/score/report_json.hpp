// The verifier's machine-readable output: one JSON object per document and one summary, with every rule, parameter
// and fingerprint that changes a number recorded beside it. Key material never appears, only the public key id.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "input/document_source.hpp"
#include "score/document_scorer.hpp"
#include "score/partial_result.hpp"
#include "score/verdict.hpp"

namespace telltale::score {

// The software version recorded in every report.
inline constexpr const char* kReportFormat = "telltale-detect-1";

// One document: where it came from, what was skipped, and per analysis its own test (over its own unique tuples)
// and window search. Top level: p_value (Holm over the document's tests) and detected at alpha.
nlohmann::json document_json(const input::Document& doc, std::span<const AnalysisInfo> infos,
                             std::span<const DocumentScore> scores, double alpha);

// The corpus summary: top-level p_value, log10_p_value, scored_tokens, detected, alpha; then counts, the rules, the
// tokenizer hash, and per analysis the pooled test, Fisher's combination and the window search.
nlohmann::json summary_json(std::span<const AnalysisInfo> infos, std::span<const CorpusSummary> summaries, double alpha,
                            const std::string& version);

// The verdict summary_json reports, for callers that need the decision itself.
Verdict summary_verdict(std::span<const AnalysisInfo> infos, std::span<const CorpusSummary> summaries, double alpha);

}  // namespace telltale::score
