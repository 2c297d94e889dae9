// `telltale report verify|html|pdf`: checks an evidence bundle (signature, every hash, and with --key a re-run on the
// recorded inputs that must give identical numbers), renders its HTML report again from the verified record, or
// prints the bundle's signed report to PDF.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/bundle.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/html_report.hpp"
#include "evidence/record.hpp"
#include "evidence/recorded_paths.hpp"
#include "evidence/report_pdf.hpp"
#include "evidence/signing_key.hpp"
#include "numeric_flags.hpp"
#include "telltale/new_file.hpp"

namespace telltale::cli {
namespace {

struct ReportOptions {
  std::string bundle;
  std::string pubkey;
  std::vector<std::string> keys;
  std::string base;
  std::vector<std::string> allow_dirs;
  std::string out;
  unsigned threads = 1;
};

Result<nlohmann::json> verified_record(const ReportOptions& o) {
  auto key = read_public_key(o.pubkey);
  if (!key) return key.status();
  return evidence::verify_bundle(o.bundle, *key);
}

int run_verify(const ReportOptions& o) {
  auto record = verified_record(o);
  if (!record) return fail(record.status());
  const evidence::TestKind kind = evidence::test_kind(*record);
  // An attribution names accounts ("attributed"); the other tests say whether the watermark is there ("detected").
  const char* decision = kind == evidence::TestKind::kAttribution ? "attributed" : "detected";
  nlohmann::json out = {{"bundle", o.bundle},
                        {"test", evidence::test_name(kind)},
                        {"signature", "valid"},
                        {"signing_key_id", (*record)["signer"]["public_key_id"]},
                        {"files", "every file matches the signed manifest"},
                        {decision, (*record)["result"][decision]},
                        {"p_value", (*record)["result"]["p_value"]},
                        {"log10_p_value", (*record)["result"]["log10_p_value"]}};
  if (o.keys.empty()) {
    out["rerun"] = "skipped: give the watermark key(s) with --key to re-run the test on the recorded inputs";
  } else {
    auto keys = read_key_files(o.keys);
    if (!keys) return fail(keys.status());
    // Only files inside the directories given are read: the recorded working directory and absolute paths are the
    // signer's word, and a hostile signer could name any file (spec/evidence-bundle.md, "Re-running").
    const std::string base = o.base.empty() ? "." : o.base;
    std::vector<std::filesystem::path> roots;
    std::error_code ec;
    for (const std::string& d : o.allow_dirs) roots.push_back(std::filesystem::absolute(d, ec));
    roots.insert(roots.begin(), std::filesystem::absolute(base, ec));
    if (ec) return fail("cannot resolve the directories given: " + ec.message());
    if (Status s = evidence::check_recorded_paths(*record, roots); !s.is_ok()) return fail(s);
    if (::chdir(base.c_str()) != 0) return fail(base + ": cannot enter the inputs' directory: " + std::strerror(errno));
    auto confirmed = evidence::reproduce(*record, *keys, o.threads);
    if (!confirmed) return fail(confirmed.status());
    out["rerun"] = *confirmed;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

int run_html(const ReportOptions& o) {
  if (Status s = check_new_path(o.out); !s.is_ok()) return fail(s);
  auto record = verified_record(o);
  if (!record) return fail(record.status());
  auto html = evidence::render_html_report(*record);
  if (!html) return fail(html.status());
  if (Status s = write_new_file(o.out, *html, FileAccess::kShared); !s.is_ok()) return fail(s);
  const nlohmann::json done = {{"report", o.out}, {"verdict", evidence::verdict_sentence(*record)}};
  std::printf("%s\n", done.dump().c_str());
  return kExitOk;
}

int run_pdf(const ReportOptions& o) {
  if (Status s = check_new_path(o.out); !s.is_ok()) return fail(s);
  auto key = read_public_key(o.pubkey);
  if (!key) return fail(key.status());
  auto pdf = evidence::bundle_pdf(o.bundle, *key);
  if (!pdf) return fail(pdf.status());
  if (Status s = write_new_file(o.out, *pdf, FileAccess::kShared); !s.is_ok()) return fail(s);
  std::printf("%s\n", nlohmann::json{{"pdf", o.out}, {"bytes", pdf->size()}}.dump().c_str());
  return kExitOk;
}

// `report html` and `report pdf`: a bundle, its signer's public key and a new file to write.
void add_render_command(CLI::App* report, const char* name, const char* help, const std::string& format,
                        int (*run)(const ReportOptions&), int& exit_code) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = report->add_subcommand(name, help);
  cmd->add_option("bundle", o->bundle, "the bundle directory")->required();
  cmd->add_option("--pubkey,-p", o->pubkey, "the signer's public key file")->required();
  cmd->add_option("--out,-o", o->out, "the " + format + " file to create")->required();
  cmd->callback([o, run, &exit_code] { exit_code = run(*o); });
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  CLI::App* report = app.add_subcommand("report", "Check an evidence bundle, or render its report as HTML or PDF");
  report->require_subcommand(1);

  auto v = std::make_shared<ReportOptions>();
  CLI::App* verify = report->add_subcommand(
      "verify",
      "Check a bundle's Ed25519 signature and every file's SHA-256; with --key, also re-run the test on the recorded\n"
      "inputs (which must have the recorded SHA-256) and confirm identical numbers. Exit 0 when every check passed.");
  verify->add_option("bundle", v->bundle, "the bundle directory")->required();
  verify->add_option("--pubkey,-p", v->pubkey, "the signer's public key file (telltale keygen --signing)")->required();
  verify->add_option("--key,-k", v->keys, "watermark key file(s), in the recorded order: re-run the test");
  verify->add_option("--base", v->base,
                     "directory where the record's relative paths resolve and inside which its files must lie\n"
                     "(default: the current directory; the recorded working directory is not trusted)");
  verify->add_option("--allow-dir", v->allow_dirs,
                     "another directory the record's absolute paths may lie in (e.g. the tokenizer's); repeatable");
  verify->add_option("--threads,-j", v->threads, "threads for the re-run")->check(whole_number(1, 1024));
  verify->callback([v, &exit_code] { exit_code = run_verify(*v); });

  add_render_command(report, "html", "Verify a bundle, then write its HTML report to a new file", "HTML", run_html,
                     exit_code);
  add_render_command(report, "pdf",
                     "Verify a bundle, then print its signed HTML report to a new PDF file with headless Chromium "
                     "(Debian package\nchromium): page numbers, and the key id and record.json's SHA-256 in every "
                     "page's footer.",
                     "PDF", run_pdf, exit_code);
}

}  // namespace telltale::cli
