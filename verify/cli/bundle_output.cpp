// Writing a command's evidence bundle: the options checked first, then the record, its report and the optional PDF.
#include "bundle_output.hpp"

#include <cstdio>
#include <filesystem>

#include "evidence/bundle.hpp"
#include "evidence/html_report.hpp"
#include "evidence/report_pdf.hpp"
#include "telltale/new_file.hpp"

namespace telltale::cli {

Status check_bundle_options(const std::string& bundle, const std::string& signing_key, bool pdf) {
  if (bundle.empty() != signing_key.empty()) return invalid_argument("--bundle and --signing-key go together");
  if (pdf && bundle.empty()) return invalid_argument("--pdf goes with --bundle");
  if (bundle.empty()) return Status::ok();
  if (pdf) {
    if (auto chromium = evidence::find_chromium(); !chromium) return chromium.status();
  }
  return check_new_path(bundle);
}

void add_pdf_flag(CLI::App* cmd, bool& pdf) {
  cmd->add_flag("--pdf", pdf,
                "the bundle also holds report.pdf, the report printed by headless Chromium (Debian package chromium), "
                "listed in the signed manifest");
}

Status write_evidence_bundle(const std::string& dir, const nlohmann::json& record, const evidence::SigningKey& signer,
                             bool pdf) {
  auto html = evidence::render_html_report(record);
  if (!html) return html.status();
  const std::string record_json = record.dump(1) + "\n";
  std::string report_pdf;
  if (pdf) {
    auto printed = evidence::render_pdf(*html, evidence::pdf_footer(record_json));
    if (!printed) return printed.status();
    report_pdf = std::move(printed).value();
  }
  TT_RETURN_IF_ERROR(evidence::write_bundle(dir, record_json, *html, signer, report_pdf));
  std::fprintf(stderr, "telltale: evidence bundle written to %s\n", dir.c_str());
  return Status::ok();
}

}  // namespace telltale::cli
