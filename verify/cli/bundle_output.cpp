#include "bundle_output.hpp"

#include <cstdio>
#include <filesystem>

#include "evidence/bundle.hpp"
#include "evidence/html_report.hpp"
#include "telltale/new_file.hpp"

namespace telltale::cli {

Status check_bundle_options(const std::string& bundle, const std::string& signing_key) {
  if (bundle.empty() != signing_key.empty()) return invalid_argument("--bundle and --signing-key go together");
  if (bundle.empty()) return Status::ok();
  return check_new_path(bundle);
}

Status write_evidence_bundle(const std::string& dir, const nlohmann::json& record, const evidence::SigningKey& signer) {
  auto html = evidence::render_html_report(record);
  if (!html) return html.status();
  TT_RETURN_IF_ERROR(evidence::write_bundle(dir, record.dump(1) + "\n", *html, signer));
  std::fprintf(stderr, "telltale: evidence bundle written to %s\n", dir.c_str());
  return Status::ok();
}

}  // namespace telltale::cli
