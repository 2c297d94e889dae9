// The evidence report is right for every scheme and test kind: each scheme's own method, score and null (from the
// scheme table, not from names), the record's numbers in the text, and data in every plot; attribution and
// radioactivity (open and closed) reports likewise.
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
#include "radio_test_inputs.hpp"
#include "report_test_support.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using namespace telltale::test;
using nlohmann::json;

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
  json record() const { return json::parse(slurp(dir / "bundle" / telltale::evidence::kRecordFile)); }
  // The report's Method paragraph.
  std::string method() const {
    const size_t at = report.find("<p id=\"method\">");
    return at == std::string::npos ? std::string() : report.substr(at, report.find("</p>", at) - at);
  }
};

// A detection report states its record's numbers and draws every plot with data; the documents table lists every
// document, strongest first.
void check_detection_report(const SchemeBundle& b, bool window) {
  const json r = b.record();
  check_p_value_stated(b.report, r);
  CHECK(has_row(b.report, "documents tested", std::to_string(r["result"]["documents"].get<uint64_t>())));
  CHECK(has_row(b.report, "unique tokens scored", std::to_string(r["result"]["scored_tokens"].get<uint64_t>())));
  CHECK(paragraph(b.report, "verdict").find(r["result"]["detected"] == true ? "was detected" : "was not detected") !=
        std::string::npos);
  std::vector<std::string> plots = {"plot-scores", "plot-documents", "plot-curve"};
  if (window) plots.push_back("plot-window");
  check_plots_have_data(b.report, plots);
  // The ranked table: one row per document, the smallest p-value first.
  const json& docs = r["documents"];
  double best = 0;
  for (const json& d : docs) best = std::min(best, d["log10_p_value"].get<double>());
  const std::string table = b.report.substr(b.report.find("<table id=\"documents-table\">"));
  CHECK(std::count(table.begin(), table.begin() + static_cast<std::ptrdiff_t>(table.find("</table>")), '\n') ==
        static_cast<std::ptrdiff_t>(docs.size() + 1));
  const size_t first = table.find("<tr><td>1</td>");
  const std::string first_row = table.substr(first, table.find("</tr>", first) - first);
  INFO(first_row);
  CHECK(first_row.find(telltale::evidence::report::p_text(best)) != std::string::npos);
  CHECK(first_row.find("gen.jsonl:") != std::string::npos);
}

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
  check_detection_report(b, true);
  // The 0/1 score is two categories labelled 0 and 1, not a continuous axis with ticks at 0.5 and 1.5.
  const std::string scores = svg_of(b.report, "plot-scores");
  CHECK(scores.find(">0</text>") != std::string::npos);
  CHECK(scores.find(">1</text>") != std::string::npos);
  CHECK(scores.find(">0.5</text>") == std::string::npos);
  CHECK(scores.find(">1.5</text>") == std::string::npos);
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
  check_detection_report(b, false);
}

TEST_CASE("kgw, gumbel and mean-tournament reports state their record's numbers and draw every plot with data",
          "[evidence][report]") {
  const char* const cases[][3] = {{"kgw", "", "--window 16"},
                                  {"gumbel", "--scheme gumbel", ""},
                                  {"tournament", "--scheme tournament", "--window 16"}};
  for (const auto& [name, flags, detect_flags] : cases) {
    INFO("scheme " << name);
    SchemeBundle b(name, flags, detect_flags);
    CHECK(b.says(std::string("<th>scheme</th><td><code>") + name + "</code>"));
    check_detection_report(b, std::string(detect_flags).size() > 0);
  }
}

TEST_CASE("an attribution report states its accounts and numbers and ranks each document's best account by name",
          "[evidence][report]") {
  BundleCase c("report-attrib");
  const std::string gen = "generate --scheme fingerprint -m " + model_file("stories260K.bin") + " -t " +
                          model_file("tok512.model") + " -n 200 --top-p 1 --jsonl -k k.key ";
  const auto a = c.run(gen + "--account 77 --count 2 --seed 3");
  REQUIRE(a.exit_code == 0);
  c.dir.file("texts.jsonl", a.out);
  std::string registry;
  for (int i = 70; i < 90; ++i) registry += std::to_string(i) + "\n";
  c.dir.file("reg.txt", registry);
  const auto made = c.run("attribute -q -k k.key -t " + model_file("tok512.model") +
                          " -r reg.txt -f completion --bundle b --signing-key s.key texts.jsonl");
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const std::string html = slurp(c.dir.path("b/report.html"));
  const json r = json::parse(slurp(c.dir.path("b/record.json")));
  check_p_value_stated(html, r);
  CHECK(paragraph(html, "verdict").find("account 77") != std::string::npos);
  CHECK(has_row(html, "registered accounts", "20"));
  CHECK(has_row(html, "hypotheses (Holm)", std::to_string(r["result"]["hypotheses"].get<uint64_t>())));
  check_plots_have_data(html, {"plot-documents"});
  CHECK(svg_of(html, "plot-documents").find("texts.jsonl:") != std::string::npos);
  CHECK(html.find("<td>account 77</td>") != std::string::npos);
}

TEST_CASE("open and closed radioactivity reports state their numbers and draw every plot with data",
          "[evidence][report]") {
  BundleCase c("report-radio");
  const std::string tok = model_file("tok512.model");
  const auto gen = c.run("generate -m " + model_file("stories260K.bin") + " -t " + tok +
                         " -n 120 --top-p 1 --jsonl --count 2 --key k.key --seed 5");
  REQUIRE(gen.exit_code == 0);
  c.dir.file("wm.jsonl", gen.out);
  REQUIRE(c.run("radioactivity filter -t " + tok + " -f completion --out t.ttcf wm.jsonl").exit_code == 0);
  REQUIRE(c.run("radioactivity predict -m " + model_file("stories260K.bin") + " -t " + tok +
                " -f completion --out p.jsonl wm.jsonl")
              .exit_code == 0);
  c.dir.file("memorised.jsonl", memorised_predictions(slurp(c.dir.path("p.jsonl"))));
  c.dir.file("answers.jsonl", answers_from_generations(gen.out));
  const char* const modes[][3] = {{"open", "--predictions memorised.jsonl", "predictions on our watermarked text"},
                                  {"closed", "--answers answers.jsonl", "answers to our prompts"}};
  for (const auto& [mode, source, what] : modes) {
    INFO("mode " << mode);
    const std::string bundle = std::string("b-") + mode;
    const auto scored = c.run("radioactivity score -k k.key -t " + tok + " --filter t.ttcf " + source + " --bundle " +
                              bundle + " --signing-key s.key");
    INFO(scored.err);
    REQUIRE(scored.exit_code == 0);
    const std::string html = slurp(c.dir.path(bundle + "/report.html"));
    const json r = json::parse(slurp(c.dir.path(bundle + "/record.json")));
    check_p_value_stated(html, r);
    CHECK(paragraph(html, "verdict").find(what) != std::string::npos);
    CHECK(has_row(html, "scored tuples", std::to_string(r["result"]["scored_tuples"].get<uint64_t>())));
    check_plots_have_data(html, {"plot-scores", "plot-curve"});
  }
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
