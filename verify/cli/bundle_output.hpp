// The `--bundle DIR --signing-key FILE` pair that detect, attribute and radioactivity score share: checked before any
// work, and the signed bundle written once the command's record is made (spec/evidence-bundle.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "evidence/signing_key.hpp"
#include "telltale/status.hpp"

namespace telltale::cli {

// Both options or neither, and a bundle directory that does not exist yet: refused before the run, so that a long
// scan does not end in this error.
Status check_bundle_options(const std::string& bundle, const std::string& signing_key);

// Renders the record's HTML report, writes the signed bundle to the new directory `dir`, and says so on stderr.
Status write_evidence_bundle(const std::string& dir, const nlohmann::json& record, const evidence::SigningKey& signer);

}  // namespace telltale::cli
