// The report at scale and at the edges: 10,000 documents give a small report with a ranked, named, cut table; one
// document still gives an evidence curve; the window plot's curve covers the positions its band shades.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>

#include "bundle_test_support.hpp"
#include "evidence/html_report.hpp"
#include "evidence/report_documents.hpp"
#include "report_test_support.hpp"
#include "test_paths.hpp"

using namespace telltale::test;
using nlohmann::json;

namespace {

// The record of `detect --window 16 --bundle` over one watermarked story.
json one_document_record(const BundleCase& c) {
  const auto gen = c.run("generate -k k.key -m " + model_file("stories260K.bin") + " -t " + model_file("tok512.model") +
                         " -n 200 --seed 11");
  REQUIRE(gen.exit_code == 0);
  c.dir.file("story.txt", gen.out);
  const auto det = c.run("detect -q -k k.key -t " + model_file("tok512.model") +
                         " --window 16 --bundle b --signing-key s.key story.txt");
  INFO(det.err);
  REQUIRE(det.exit_code == 0);
  return json::parse(slurp(c.dir.path("b/record.json")));
}

std::string render(const json& record) {
  auto html = telltale::evidence::render_html_report(record);
  REQUIRE(html.is_ok());
  return *html;
}

// The x coordinates of an SVG polyline's points, and the x extent of the rect of class `css`.
std::vector<double> polyline_x(const std::string& svg, const std::string& css) {
  const size_t at = svg.find("<polyline class=\"" + css + "\"");
  REQUIRE(at != std::string::npos);
  const size_t from = svg.find("points=\"", at) + 8;
  std::vector<double> xs;
  std::istringstream in(svg.substr(from, svg.find('"', from) - from));
  std::string pair;
  while (in >> pair) xs.push_back(std::stod(pair.substr(0, pair.find(','))));
  return xs;
}

}  // namespace

TEST_CASE("a one-document report draws its evidence curve and names the document", "[evidence][report]") {
  BundleCase c("report-one-doc");
  const json record = one_document_record(c);
  REQUIRE(record["documents"].size() == 1);
  const std::string html = render(record);
  check_plots_have_data(html, {"plot-scores", "plot-documents", "plot-curve", "plot-window"});
  CHECK(svg_of(html, "plot-curve").find("<circle class=\"observed\"") != std::string::npos);
  CHECK(svg_of(html, "plot-curve").find("story.txt") != std::string::npos);
  CHECK(svg_of(html, "plot-documents").find("1. story.txt") != std::string::npos);
}

TEST_CASE("the window plot's moving average runs along the whole document, across the band it shades",
          "[evidence][report]") {
  BundleCase c("report-window");
  json record = one_document_record(c);
  // A document of 285 scored tokens whose positions 12..225 are green: the band spans them, and the curve must too.
  json scores = json::array();
  for (int i = 0; i < 285; ++i) scores.push_back(i >= 12 && i < 225 ? 1.0 : 0.0);
  json& w = record["plots"][0]["window"];
  REQUIRE(w.is_object());
  w["scores"] = scores;
  w["start"] = 12;
  w["length"] = 213;
  const std::string svg = svg_of(render(record), "plot-window");
  const std::regex band("<rect class=\"band\" x=\"([0-9.]+)\" y=\"[0-9.]+\" width=\"([0-9.]+)\"");
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, band));
  const double band_left = std::stod(m[1]), band_right = band_left + std::stod(m[2]);
  const std::vector<double> curve = polyline_x(svg, "curve");
  REQUIRE(curve.size() > 100);
  INFO("band " << band_left << ".." << band_right << ", curve " << curve.front() << ".." << curve.back());
  CHECK(curve.front() < band_left);
  CHECK(curve.back() > band_right);
  // The window's own mean (1.0 here) is drawn across the band.
  const std::vector<double> mean = polyline_x(svg, "winmean");
  REQUIRE(mean.size() == 2);
  CHECK(mean[0] == Approx(band_left).margin(0.2));
  CHECK(mean[1] == Approx(band_right).margin(0.2));
  CHECK(svg.find("mean inside the window: 1<") != std::string::npos);
}

TEST_CASE("a 10,000-document report stays small and ranks the documents strongest first, by name",
          "[evidence][report]") {
  BundleCase c("report-10k");
  json record = one_document_record(c);
  const json one = record["documents"][0];
  std::mt19937 rng(20);
  std::uniform_real_distribution<double> log10_p(-8, 0);
  json docs = json::array();
  for (int i = 0; i < 10000; ++i) {
    json d = one;
    d["source"] = "corpus/part-" + std::to_string(i / 1000) + ".jsonl";
    d["line"] = i % 1000 + 1;
    d["log10_p_value"] = i == 7321 ? -40.0 : log10_p(rng);
    d["detected"] = d["log10_p_value"].get<double>() <= -3;
    docs.push_back(std::move(d));
  }
  record["documents"] = std::move(docs);
  record["result"]["documents"] = 10000;
  const std::string html = render(record);
  INFO("report bytes: " << html.size());
  CHECK(html.size() < 3u << 20);
  // The strongest document, named, is first in the plot and the table.
  const std::string svg = svg_of(html, "plot-documents");
  CHECK(svg.find("1. corpus/part-7.jsonl:322") != std::string::npos);
  CHECK(html.find("<tr><td>1</td><td><code>corpus/part-7.jsonl:322</code>") != std::string::npos);
  CHECK(data_marks(svg) == telltale::evidence::report::kMaxPlottedDocuments);
  CHECK(html.find("<tr><td>50</td>") != std::string::npos);
  CHECK(html.find("<tr><td>51</td>") == std::string::npos);
  CHECK(paragraph(html, "documents-more").find("9950 more document(s)") != std::string::npos);
  // The appendix cuts the document list too and says so.
  CHECK(html.find("The 10000 documents are cut to the first 50 here") != std::string::npos);
}
