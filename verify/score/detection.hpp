// One detection run from loaded parts: the keys, the tokenizer, the scheme, the rules and the inputs in, the partial
// results (and the list of files read) out. `telltale detect` and the re-run of an evidence bundle share it, so both
// compute the same numbers the same way.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "score/corpus_scanner.hpp"
#include "score/partial_result.hpp"
#include "telltale/keyring.hpp"
#include "telltale/scheme.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

struct DetectionSetup {
  const input::Tokenizer* tokenizer = nullptr;  // required
  std::span<const KeyRing> keys;                // one analysis per key, in this order (Holm over all of them)
  SchemeParams params;
  ScoringRules rules;
  std::vector<std::string> inputs;  // paths as given ("-" for stdin)
  input::InputOptions input;        // vocab_size is set from the tokenizer
  ScanOptions scan;
};

struct DetectionRun {
  std::vector<PartialResult> results;         // one per key
  uint64_t skipped = 0;                       // bad documents or files skipped under skip_bad
  std::vector<std::string> skipped_messages;  // the first of their messages
  std::vector<std::string> files_read;        // every file opened, in reading order ("<stdin>" for stdin)
};

// Scores every input under every key. `on_tokens` sees each document's ids before `on_document` sees its scores.
// Errors name the key's position or the input file and line.
Result<DetectionRun> run_detection(const DetectionSetup& setup, const CorpusScanner::DocumentCallback& on_document = {},
                                   const CorpusScanner::ProgressCallback& on_progress = {},
                                   const CorpusScanner::TokensCallback& on_tokens = {});

}  // namespace telltale::score
