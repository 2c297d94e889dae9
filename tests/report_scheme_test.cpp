// The evidence report states each scheme's own method, score and null: a fingerprint detection and a weighted-mean
// tournament detection are rendered and read back (the report's text comes from the scheme table, not from names).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bundle_test_support.hpp"
#include "chromium_render.hpp"
#include "evidence/bundle.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using namespace telltale::test;

namespace {

// A bundle of one scheme's detection on text that scheme watermarked: `scheme_flags` go to generate and detect alike.
struct SchemeBundle {
  fs::path dir;
  std::string report;  // report.html up to its appendix (the record, which names every field, is left out)

  SchemeBundle(const std::string& name, const std::string& scheme_flags, const std::string& detect_flags) {
    dir = fs::temp_directory_path() / ("telltale-report-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "texts");
    const std::string t = telltale_binary();
    const std::string cd = "cd " + shell_quote(dir.string()) + " && ";
    REQUIRE(run_command(cd + t + " keygen --out wm.key").exit_code == 0);
    REQUIRE(run_command(cd + t + " keygen --signing --out sign.key").exit_code == 0);
    const auto gen = run_command(cd + t + " generate --key wm.key " + scheme_flags + " -m " +
                                 shell_quote(model_file("stories260K.bin")) + " -t " +
                                 shell_quote(model_file("tok512.model")) + " -n 120 -c 3 --seed 7 --jsonl");
    INFO("generate: " << gen.err);
    REQUIRE(gen.exit_code == 0);
    write_text(dir / "texts" / "gen.jsonl", gen.out);
    const auto det = run_command(cd + t + " detect -q --key wm.key " + scheme_flags + " -t " +
                                 shell_quote(model_file("tok512.model")) + " --field completion " + detect_flags +
                                 " --bundle bundle --signing-key sign.key texts");
    INFO("detect: " << det.err);
    REQUIRE((det.exit_code == 0 || det.exit_code == 1));
    const std::string html = slurp(dir / "bundle" / telltale::evidence::kReportFile);
    report = html.substr(0, html.find("<h2 class=\"appendix\">"));
    REQUIRE(report.size() < html.size());
  }
  ~SchemeBundle() { fs::remove_all(dir); }

  bool says(const std::string& text) const { return report.find(text) != std::string::npos; }
  // The report's Method paragraph.
  std::string method() const {
    const size_t at = report.find("<p id=\"method\">");
    return at == std::string::npos ? std::string() : report.substr(at, report.find("</p>", at) - at);
  }
};

}  // namespace

TEST_CASE("a fingerprint bundle's report states the red/green test of its zero-bit layer and draws the null at gamma",
          "[evidence][report]") {
  SchemeBundle b("fingerprint", "--scheme fingerprint --account-delta 3", "--window 16");
  INFO(b.method());
  CHECK(b.method().find("carried two marks") != std::string::npos);
  CHECK(b.method().find("counts green tokens") != std::string::npos);
  CHECK(b.method().find("tournament") == std::string::npos);
  CHECK_FALSE(b.says("g-values"));
  CHECK(b.says("0 = red token, 1 = green token (the zero-bit layer)"));
  // The null: the effective gamma of the default gamma (0.25), not layers / 2, under the histogram and in the window
  // plot.
  CHECK(b.says("averages 0.25.</p>"));
  CHECK(b.says("expected without the key: 0.25<"));
  CHECK_FALSE(b.says("expected without the key: 15<"));
  CHECK(b.says("<th>account delta ("));
}

TEST_CASE("a weighted-mean tournament bundle's report states the weighted sum and draws the null at its mean",
          "[evidence][report]") {
  // No window search: it has no exact tail for this score, and detect refuses it.
  SchemeBundle b("weighted", "--scheme tournament --tournament-score weighted-mean", "");
  INFO(b.method());
  CHECK(b.method().find("fixed integer weights") != std::string::npos);
  CHECK(b.method().find("counts the ones") == std::string::npos);
  CHECK(b.method().find("binomial") == std::string::npos);
  CHECK(b.says("weighted sum of the g-values per token"));
  // Null mean of sum_l w_l g_l with fair bits: half the weights' sum, w_l = round(10 - 9 l / 29) for m = 30.
  double weights = 0;
  for (int l = 0; l < 30; ++l) weights += std::round(10.0 - 9.0 * l / 29.0);
  char expected[64];
  std::snprintf(expected, sizeof expected, "averages %.4g.</p>", weights / 2);
  INFO("expected: " << expected);
  CHECK(b.says(expected));
  CHECK_FALSE(b.says("averages 15.</p>"));
}

TEST_CASE("the fingerprint and weighted-mean reports render in headless Chromium", "[evidence][report][chromium]") {
  const std::string chromium = telltale::test::find_chromium();
  if (chromium.empty()) return;  // find_chromium has said so
  const char* const cases[][3] = {{"fingerprint-render", "--scheme fingerprint", "--window 16"},
                                  {"weighted-render", "--scheme tournament --tournament-score weighted-mean", ""}};
  for (const auto& [name, flags, detect_flags] : cases) {
    SchemeBundle b(name, flags, detect_flags);
    const telltale::test::Rendering r =
        telltale::test::render(chromium, b.dir / "bundle" / telltale::evidence::kReportFile, b.dir / "chromium");
    telltale::test::check_clean_rendering(r, b.dir / "chromium");
    CHECK(r.dom.find("id=\"null-mean\"") != std::string::npos);
    if (const char* keep = std::getenv("TELLTALE_KEEP_RENDER")) {
      fs::copy_file(b.dir / "chromium" / "report.png", fs::path(keep) / (std::string(name) + ".png"),
                    fs::copy_options::overwrite_existing);
    }
  }
}
