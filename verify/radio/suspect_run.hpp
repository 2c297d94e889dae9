// One radioactivity test from start to finish: read the suspect's predictions file (open model) or its answer log
// (closed model), score it through the optional teacher-context filter, and state the result as the JSON
// `telltale radioactivity score` prints. The command line and the evidence re-run both call it, so a bundle's
// re-run takes exactly the path the first run took.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "radio/suspect_scorer.hpp"
#include "telltale/keyring.hpp"
#include "telltale/scheme.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

// What is scored: the suspect's top-ranked ids (today's count test), or its probability mass on what the watermark
// favours (spec/radioactivity.md, section 7).
enum class ScoreKind { kTop1, kProbability };
const char* score_kind_name(ScoreKind kind);  // "top1", "probability"
Result<ScoreKind> parse_score_kind(const std::string& name);

// How a suspect candidate that is not one whole watermark token is read (spec/predictions-format.md section 4, rule
// 3): dropped, or as the first token of its bytes' encoding by the watermark tokenizer.
enum class AlignmentRule { kWholeToken, kFirstPiece };
const char* alignment_rule_name(AlignmentRule rule);  // "whole-token", "first-piece"
Result<AlignmentRule> parse_alignment_rule(const std::string& name);

// Everything that decides the result besides the key and the tokenizer's bytes.
struct SuspectRecipe {
  std::string tokenizer;    // path, as given
  std::string predictions;  // open mode: a predictions file (spec/predictions-format.md); else empty
  std::string answers;      // closed mode: an answer log (JSONL prompt, response); else empty
  std::string filter;       // the teacher-context filter file; empty: none
  // Open mode: the SentencePiece model of the suspect's own tokenizer when the predictions file holds the suspect's
  // ids (aligned to the watermark tokenizer by byte offsets, spec/radioactivity.md, section 6); empty: the file
  // holds watermark ids.
  std::string suspect_tokenizer;
  ScoreKind score = ScoreKind::kTop1;
  AlignmentRule alignment =
      AlignmentRule::kWholeToken;  // when candidates are aligned by bytes (own tokenizer, logprobs)
  uint32_t top_k = 1;              // predicted ids scored per position, 1..64
  double alpha = 1e-3;             // significance level for "detected", in (0, 1)
  SchemeParams params;
  // A predictions file or answer log with no record is scored (as nothing) instead of refused with "no documents
  // read". Not part of an evidence record: a bundle is never made over nothing.
  bool allow_empty = false;
};

// A scored tuple with the name of the record it came from (for --provenance and the evidence plots).
using SuspectTupleCallback = std::function<void(const ScoredTuple& tuple, const std::string& doc)>;

struct SuspectRun {
  nlohmann::json result;  // the JSON `radioactivity score` prints, without "provenance"
  bool detected = false;
  NullModel null;
  std::vector<std::string> files_read;  // the predictions or answers file, then the filter (if any)
};

// Runs the test. `on_tuple` (may be empty) receives every scored tuple in order. Errors name the file.
Result<SuspectRun> run_suspect_test(const SuspectRecipe& recipe, const input::Tokenizer& tokenizer, const KeyRing& key,
                                    const SuspectTupleCallback& on_tuple = {});

}  // namespace telltale::radio
