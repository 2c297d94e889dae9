// The `--bundle DIR --signing-key FILE [--pdf]` options that detect, attribute and radioactivity score share: checked
// before any work, and the signed bundle written once the command's record is made (spec/evidence-bundle.md).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "evidence/signing_key.hpp"
#include "telltale/status.hpp"

namespace telltale::cli {

// Both options or neither, a bundle directory that does not exist yet, and for --pdf a browser to print it with:
// refused before the run, so that a long scan does not end in this error.
Status check_bundle_options(const std::string& bundle, const std::string& signing_key, bool pdf);

// Adds --pdf (the bundle also holds report.pdf, printed by headless Chromium) to a command that writes bundles.
void add_pdf_flag(CLI::App* cmd, bool& pdf);

// Renders the record's HTML report (and with `pdf` prints it), writes the signed bundle to the new directory `dir`,
// and says so on stderr.
Status write_evidence_bundle(const std::string& dir, const nlohmann::json& record, const evidence::SigningKey& signer,
                             bool pdf);

}  // namespace telltale::cli
