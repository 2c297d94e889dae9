// What the report tests read back from a rendered report: a plot's SVG, how many data marks it holds, a paragraph by
// id, and the checks that the numbers in the text are the record's.
#pragma once

#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "evidence/report_plots.hpp"

namespace telltale::test {

// The <svg id="ID">...</svg> element of a report; empty when there is none.
inline std::string svg_of(const std::string& html, const std::string& id) {
  const size_t at = html.find("<svg id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</svg>", at) + 6 - at);
}

// The data marks of a plot: its bars and markers (not the legend's swatches) and its lines of two points or more.
inline size_t data_marks(const std::string& svg) {
  size_t marks = 0;
  for (const char* mark : {"<rect class=\"observed\"", "<rect class=\"null\"", "<circle class=\"observed\""}) {
    for (size_t at = svg.find(mark); at != std::string::npos; at = svg.find(mark, at + 1)) ++marks;
  }
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) {
    const size_t points = svg.find("points=\"", at) + 8;
    const std::string list = svg.substr(points, svg.find('"', points) - points);
    if (std::count(list.begin(), list.end(), ',') >= 2) ++marks;
  }
  return marks;
}

// Every plot named is in the report and has data.
inline void check_plots_have_data(const std::string& html, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    INFO("plot " << id);
    const std::string svg = svg_of(html, id);
    REQUIRE(!svg.empty());
    CHECK(data_marks(svg) > 0);
  }
}

// The element with id `id` up to its first "</p>".
inline std::string paragraph(const std::string& html, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  return at == std::string::npos ? std::string() : html.substr(at, html.find("</p>", at) - at);
}

// The verdict and the results table state the record's p-value, and the table its log10.
inline void check_p_value_stated(const std::string& html, const nlohmann::json& record) {
  const double log10_p = record["result"]["log10_p_value"].get<double>();
  const std::string p = evidence::report::p_text(log10_p);
  char log10[64];
  std::snprintf(log10, sizeof log10, "(log10 p = %.6g)", log10_p);
  INFO("p-value " << p << ", verdict " << paragraph(html, "verdict"));
  if (record["test"] != "attribution" || record["result"]["attributed"] == true) {
    CHECK(paragraph(html, "verdict").find("p = " + p) != std::string::npos);
  }
  CHECK(html.find(p + " " + log10) != std::string::npos);
}

// A results-table row "<th>name</th><td>value</td>".
inline bool has_row(const std::string& html, const std::string& name, const std::string& value) {
  return html.find("<tr><th>" + name + "</th><td>" + value + "</td></tr>") != std::string::npos;
}

}  // namespace telltale::test
