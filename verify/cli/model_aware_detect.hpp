// `detect --model`: the model-aware run (verify/model/weighted_run.hpp), with or without an evidence bundle; prints
// per-document lines and the summary as plain `detect` does, and decides on the weighted test.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "evidence/record.hpp"
#include "evidence/signing_key.hpp"
#include "input/tokenizer.hpp"
#include "scan_setup.hpp"
#include "telltale/keyring.hpp"

namespace telltale::cli {

// Runs recipe (whose model_aware is set) and returns the exit code. With `signer`, writes the bundle at `bundle`.
int run_model_aware_detect(const ScanCliOptions& o, const evidence::DetectionRecipe& recipe,
                           const input::Tokenizer& tokenizer, std::span<const KeyRing> keys,
                           const std::optional<evidence::SigningKey>& signer, const std::string& bundle, bool pdf);

}  // namespace telltale::cli
