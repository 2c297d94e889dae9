// The report as a PDF: the bundle's HTML printed by headless Chromium (a private profile, a dead proxy, a time
// limit), with the watermark key id and the record's SHA-256 in a footer on every page beside the page numbers.
#pragma once

#include <string>

#include "evidence/signing_key.hpp"
#include "telltale/status.hpp"

namespace telltale::evidence {

// Chromium gets this long to print a report before it is killed.
inline constexpr int kPdfTimeoutSeconds = 120;

// What every page's footer names: the key id(s) tested and the SHA-256 of the record.json the report renders.
struct PdfFooter {
  std::string key_ids;  // comma-separated, as the record lists them
  std::string record_sha256;
};

// The browser that prints: $TELLTALE_CHROMIUM when set (an empty value: none), else chromium or chromium-browser on
// /usr/bin. An error naming the Debian package when there is none.
Result<std::string> find_chromium();

// Prints `html` (a report made by render_html_report) to PDF bytes.
Result<std::string> render_pdf(const std::string& html, const PdfFooter& footer);

// The footer for a record: its key ids and the SHA-256 of its bytes.
PdfFooter pdf_footer(const std::string& record_json);

// Verifies the bundle under `key`, then prints its signed report.html with the footer of its record.json.
Result<std::string> bundle_pdf(const std::string& dir, const SigningPublicKey& key);

}  // namespace telltale::evidence
