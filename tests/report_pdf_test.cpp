// The report as a PDF: `detect --pdf` puts report.pdf in the bundle, listed in the signed manifest so that `report
// verify` checks it like every other file; `report pdf` prints a verified bundle; every page carries its number, the
// key id and the record's SHA-256; without Chromium both give a one-line error naming the Debian package.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "bundle_test_support.hpp"
#include "chromium_render.hpp"
#include "evidence/bundle.hpp"
#include "input/tokenizer.hpp"
#include "report_test_support.hpp"
#include "test_paths.hpp"

using namespace telltale::test;
using nlohmann::json;

namespace {

// A case with one watermarked story to test.
struct PdfCase : BundleCase {
  explicit PdfCase(const std::string& tag) : BundleCase(tag) {
    const auto gen = run("generate -k k.key -m " + model_file("stories260K.bin") + " -t " + model_file("tok512.model") +
                         " -n 200 --seed 4");
    REQUIRE(gen.exit_code == 0);
    dir.file("story.txt", gen.out);
  }
  // detect over the story into bundle `b`, with `extra` flags and `env` before the command.
  CommandResult detect(const std::string& extra, const std::string& env = "") const {
    return run_command("cd " + shell_quote(dir.str()) + " && " + env + telltale_binary() + " detect -q -k k.key -t " +
                       model_file("tok512.model") + " --bundle b --signing-key s.key " + extra + " story.txt");
  }
};

bool have(const char* tool) { return ::access((std::string("/usr/bin/") + tool).c_str(), X_OK) == 0; }

// pdfinfo's page count (poppler-utils); 0 with a warning when it is not installed.
int pdf_pages(const std::string& pdf) {
  if (!have("pdfinfo")) {
    WARN("pdfinfo is not installed (scripts/setup installs Debian's poppler-utils): page count not checked");
    return 0;
  }
  const auto info = run_command("pdfinfo " + shell_quote(pdf));
  REQUIRE(info.exit_code == 0);
  const size_t at = info.out.find("Pages:");
  REQUIRE(at != std::string::npos);
  return std::stoi(info.out.substr(at + 6));
}

}  // namespace

TEST_CASE("a --pdf bundle holds report.pdf under the signed manifest, with numbered pages naming the key and record",
          "[evidence][report][chromium]") {
  if (find_chromium().empty()) return;  // find_chromium has said so
  PdfCase c("report-pdf");
  const auto made = c.detect("--pdf");
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const json manifest = json::parse(slurp(c.dir.path("b/manifest.json")));
  REQUIRE(manifest["files"].size() == 3);
  CHECK(manifest["files"][2]["name"] == "report.pdf");
  const std::string pdf = slurp(c.dir.path("b/report.pdf"));
  CHECK(pdf.rfind("%PDF-", 0) == 0);
  CHECK(manifest["files"][2]["sha256"] == telltale::input::sha256_hex(pdf));
  const auto ok = run_command(c.verify("b"));
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);

  // Every page: its number, the key id and the record's SHA-256 (pdftotext, from poppler-utils like pdfinfo).
  const int pages = pdf_pages(c.dir.path("b/report.pdf"));
  if (pages > 0) {
    CHECK(pages >= 3);
    const json record = json::parse(slurp(c.dir.path("b/record.json")));
    const std::string key_id = record["watermark_keys"][0]["key_id"];
    const std::string sha = telltale::input::sha256_hex(slurp(c.dir.path("b/record.json")));
    const auto text = run_command("pdftotext -layout " + shell_quote(c.dir.path("b/report.pdf")) + " -");
    REQUIRE(text.exit_code == 0);
    for (int p = 1; p <= pages; ++p) {
      INFO("page " << p);
      CHECK(text.out.find("page " + std::to_string(p) + " of " + std::to_string(pages)) != std::string::npos);
    }
    auto occurrences = [&](const std::string& s) {
      int n = 0;
      for (size_t at = text.out.find(s); at != std::string::npos; at = text.out.find(s, at + 1)) ++n;
      return n;
    };
    CHECK(occurrences(sha) >= pages);
    CHECK(occurrences(key_id) >= pages);
  }

  // report pdf prints the verified bundle's report again.
  const auto printed = run_command(telltale_binary() + " report pdf " + shell_quote(c.dir.path("b")) + " -p " +
                                   shell_quote(c.dir.path("s.key.pub")) + " -o " + shell_quote(c.dir.path("case.pdf")));
  INFO(printed.err);
  REQUIRE(printed.exit_code == 0);
  CHECK(json::parse(printed.out)["pdf"] == c.dir.path("case.pdf"));
  CHECK(slurp(c.dir.path("case.pdf")).rfind("%PDF-", 0) == 0);
  if (pages > 0) CHECK(pdf_pages(c.dir.path("case.pdf")) == pages);

  // Flipping one byte of the PDF fails report verify, naming the file.
  std::string flipped = pdf;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
  c.dir.file("b/report.pdf", flipped);
  const auto bad = run_command(c.verify("b"));
  CHECK(bad.exit_code == 2);
  CHECK(one_line_error(bad.err));
  CHECK(bad.err.find("b/report.pdf: SHA-256") != std::string::npos);
  // And so does removing it.
  std::filesystem::remove(c.dir.path("b/report.pdf"));
  const auto missing = run_command(c.verify("b"));
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("b/report.pdf: missing from the bundle") != std::string::npos);
}

TEST_CASE("without Chromium, report pdf and detect --pdf refuse in one line naming the package, and write nothing",
          "[evidence][report]") {
  PdfCase c("report-no-chromium");
  const std::string none = "TELLTALE_CHROMIUM= ";
  const auto det = c.detect("--pdf", none);
  check_refused("detect --pdf", det, "install the Debian package chromium");
  CHECK_FALSE(std::filesystem::exists(c.dir.path("b")));
  check_refused("--pdf without --bundle",
                run_command("cd " + shell_quote(c.dir.str()) + " && " + telltale_binary() + " detect -q -k k.key -t " +
                            model_file("tok512.model") + " --pdf story.txt"),
                "--pdf goes with --bundle");

  REQUIRE(c.detect("").exit_code == 0);
  const auto pdf = run_command("cd " + shell_quote(c.dir.str()) + " && " + none + telltale_binary() +
                               " report pdf b -p s.key.pub -o case.pdf");
  check_refused("report pdf", pdf, "Chromium is not installed (install the Debian package chromium");
  CHECK_FALSE(std::filesystem::exists(c.dir.path("case.pdf")));
}

TEST_CASE("report html prints its verdict as plain text, with no HTML entity or tag", "[evidence][report]") {
  PdfCase c("report-plain-verdict");
  REQUIRE(c.detect("").exit_code == 0);
  const auto html = c.run("report html b -p s.key.pub -o r.html");
  INFO(html.err);
  REQUIRE(html.exit_code == 0);
  const std::string verdict = json::parse(html.out)["verdict"];
  INFO(verdict);
  CHECK(verdict.find("The watermark of key ") == 0);
  CHECK(verdict.find('&') == std::string::npos);
  CHECK(verdict.find('<') == std::string::npos);
  CHECK(verdict.find("...") != std::string::npos);
}

TEST_CASE("a report.pdf added to a bundle whose signed manifest does not list it fails report verify",
          "[evidence][report]") {
  PdfCase c("report-added-pdf");
  REQUIRE(c.detect("").exit_code == 0);
  c.dir.file("b/report.pdf", "%PDF-1.4 not signed");
  const auto bad = run_command(c.verify("b"));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("b/report.pdf: not listed in the signed manifest") != std::string::npos);
}
