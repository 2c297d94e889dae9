// The report's plots (inline SVG): the scores against the null, each document's p-value, the evidence curve, the
// windowed search along a document, and the attribution's best account per document.
#include "evidence/report_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "evidence/record.hpp"
#include "evidence/svg_plot.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::evidence::report {

using nlohmann::json;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

uint64_t count(const json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
  throw std::invalid_argument("expected a non-negative integer, got " + j.dump().substr(0, 40));
}

std::string code(const std::string& s) { return "<code>" + esc(s) + "</code>"; }

SchemeParams recorded_params(const json& scheme) {
  auto params = scheme_from_json(scheme);
  if (!params) throw std::invalid_argument(params.status().message());
  return *params;
}

// `what`: the plural noun for what was scored ("tokens", "tuples").
std::string scores_plot(const json& plot, const json& scheme, const std::string& what) {
  const json& sc = plot.at("scores");
  if (sc.is_null()) return "<p class=\"note\">Not available: the run scored repeated tuples again (--no-dedup).</p>";
  const auto& observed = sc.at("observed");
  const auto& expected = sc.at("expected_under_null");
  const auto& lower = sc.at("bin_lower");
  const size_t n = observed.size();
  double total = 0, top = 0;
  for (size_t b = 0; b < n; ++b) {
    total += observed.at(b).get<double>();
    top = std::max({top, observed.at(b).get<double>(), expected.at(b).get<double>()});
  }
  if (total == 0) return "<p class=\"note\">Nothing was scored.</p>";
  const SchemeParams params = recorded_params(scheme);
  // The record's bins are 0.5 wide for a continuous score (Gumbel's), 1 wide for a count.
  const double width = null_model(params).kind == NullKind::kExponential ? 0.5 : 1.0;
  const double x0 = lower.at(0).get<double>(), x1 = lower.at(n - 1).get<double>() + width;
  SvgPlot p("plot-scores", "Scores of the tested " + what + " against what chance alone gives", score_label(params),
            "share of scored " + what, x0, x1, 0, top / total * 1.1);
  for (size_t b = 0; b < n; ++b) {
    const double lo = lower.at(b).get<double>();
    p.bar(lo + 0.08 * width, lo + 0.48 * width, expected.at(b).get<double>() / total, "null");
    p.bar(lo + 0.52 * width, lo + 0.92 * width, observed.at(b).get<double>() / total, "observed");
  }
  p.legend("expected without the key", "null");
  p.legend("observed", "observed");
  return p.render() + "<p class=\"note\" id=\"null-mean\">Without the key, a scored token's score (" +
         esc(score_label(params)) + ") averages " + fmt("%.4g", null_mean(null_model(params))) + ".</p>";
}

std::string documents_plot(const json& record, double alpha) {
  const json& docs = record.at("documents");
  if (docs.empty()) return "<p class=\"note\">No documents.</p>";
  const size_t n = std::min(docs.size(), kMaxPlottedDocuments);
  double top = -std::log10(alpha);
  for (size_t i = 0; i < n; ++i) top = std::max(top, -docs.at(i).at("log10_p_value").get<double>());
  SvgPlot p("plot-documents", "Evidence per document (each document tested on its own)", "document (input order)",
            "-log10 p-value", 0, static_cast<double>(n), 0, top * 1.1);
  for (size_t i = 0; i < n; ++i) {
    const double v = -docs.at(i).at("log10_p_value").get<double>();
    p.bar(static_cast<double>(i) + 0.1, static_cast<double>(i) + 0.9, v,
          docs.at(i).value("detected", false) ? "observed" : "null");
  }
  p.reference(-std::log10(alpha), "significance level alpha = " + fmt("%g", alpha));
  std::string out = p.render();
  if (docs.size() > n) {
    out += "<p class=\"note\">The first " + std::to_string(n) + " of " + std::to_string(docs.size()) +
           " documents are shown; the appendix lists all of them.</p>";
  }
  return out;
}

// The pooled test's -log10 p against the count scored so far: the last two columns of each point.
std::string curve_plot(const json& plot, double alpha, const std::string& x_label) {
  const json& points = plot.at("curve").at("points");
  if (points.empty()) return "<p class=\"note\">Nothing was scored.</p>";
  std::vector<double> x, y;
  double top = -std::log10(alpha), right = 1;
  for (const json& pt : points) {
    x.push_back(pt.at(pt.size() - 2).get<double>());
    y.push_back(-pt.at(pt.size() - 1).get<double>());
    top = std::max(top, y.back());
    right = std::max(right, x.back());
  }
  SvgPlot p("plot-curve", "Evidence growing as more is scored", x_label, "-log10 p-value of the pooled test", 0, right,
            0, top * 1.1);
  p.line(x, y, "curve");
  p.reference(-std::log10(alpha), "alpha = " + fmt("%g", alpha));
  return p.render();
}

std::string window_plot(const json& plot, const json& scheme) {
  const json& w = plot.at("window");
  if (w.is_null()) return "";
  const auto& scores = w.at("scores");
  const size_t n = scores.size();
  if (n == 0) return "";
  const uint64_t start = count(w.at("start")), length = std::max<uint64_t>(1, count(w.at("length")));
  // A moving average over the best window's length of the per-token score, against its mean without the key.
  const size_t span = std::min<size_t>(n, length);
  std::vector<double> x, y;
  double sum = 0, top = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += scores.at(i).get<double>();
    if (i >= span) sum -= scores.at(i - span).get<double>();
    if (i + 1 >= span) {
      x.push_back(static_cast<double>(i + 1 - span));
      y.push_back(sum / static_cast<double>(span));
      top = std::max(top, y.back());
    }
  }
  const double expected = null_mean(null_model(recorded_params(scheme)));
  top = std::max(top, expected);
  SvgPlot p("plot-window", "Windowed detection along the document with the strongest passage",
            "position in the document (scored tokens)", "moving average over " + std::to_string(span) + " tokens", 0,
            static_cast<double>(n), 0, top * 1.15);
  p.band(static_cast<double>(start), static_cast<double>(start + length),
         "best window, p = " + fmt("%.2g", std::pow(10.0, w.at("log10_p_value").get<double>())) + " corrected");
  p.line(x, y, "curve");
  p.reference(expected, "expected without the key: " + fmt("%.4g", expected));
  std::string out = p.render();
  out += "<p class=\"note\">Document: " + code(w.at("source").value("source", "")) + " (document " +
         std::to_string(count(w.at("document")) + 1) +
         " in input order). The shaded band is the window with the "
         "smallest p-value, which is corrected for every window tried.</p>";
  return out;
}

// Each document's best account: -log10 of its p-value after Holm over the registry.
std::string best_account_plot(const json& plot, double alpha) {
  const json& points = plot.at("curve").at("points");
  if (points.empty()) return "<p class=\"note\">No document had a scored context.</p>";
  const size_t n = std::min(points.size(), kMaxPlottedDocuments);
  double top = -std::log10(alpha);
  for (size_t i = 0; i < n; ++i) top = std::max(top, -points.at(i).at(2).get<double>());
  SvgPlot p("plot-documents", "Each document's best account (tested on its own, corrected over the registry)",
            "document (input order)", "-log10 p-value of its best account", 0, static_cast<double>(n), 0, top * 1.1);
  for (size_t i = 0; i < n; ++i) {
    const double v = -points.at(i).at(2).get<double>();
    p.bar(static_cast<double>(i) + 0.1, static_cast<double>(i) + 0.9, v, v >= -std::log10(alpha) ? "observed" : "null");
  }
  p.reference(-std::log10(alpha), "significance level alpha = " + fmt("%g", alpha));
  return p.render();
}

}  // namespace telltale::evidence::report
