// The report's plots (inline SVG): the scores against the null, the evidence curve and the windowed search along a
// document; the per-document ranking is in report_documents.cpp.
#include "evidence/report_plots.hpp"

#include <fmt/printf.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "evidence/record.hpp"
#include "evidence/report_documents.hpp"
#include "evidence/svg_plot.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::evidence::report {

using nlohmann::json;

namespace {

// The Gumbel score's bins are 0.5 wide (evidence_collector.cpp); the discrete scores' bins are their values.
constexpr double kGumbelBinWidth = 0.5;
// The window plot's moving average spans about this fraction of the document, at least kMinSmoothing tokens.
constexpr size_t kSmoothingFraction = 20;
constexpr size_t kMinSmoothing = 5;
// The evidence curve uses a log axis when the largest count is this many times the smallest, and names its points
// when there are at most kMaxLabelledPoints of them.
constexpr double kLogAxisRatio = 30;
constexpr size_t kMaxLabelledPoints = 8;

}  // namespace

std::string fmt(const char* format, double v) { return fmt::sprintf(format, v); }

std::string p_text(double log10_p, bool html) {
  if (!(log10_p < -3)) return fmt("%.4g", std::pow(10.0, log10_p));
  const double e = std::floor(log10_p);
  const std::string mantissa = fmt("%.2g", std::pow(10.0, log10_p - e)), exponent = fmt("%.0f", e);
  return html ? mantissa + " &times; 10<sup>" + exponent + "</sup>" : mantissa + " x 10^" + exponent;
}

std::string p_label(double log10_p) {
  if (!(log10_p < -3)) return fmt("%.4g", std::pow(10.0, log10_p));
  static const char* const kSuper[] = {"\u2070", "\u00b9", "\u00b2", "\u00b3", "\u2074",
                                       "\u2075", "\u2076", "\u2077", "\u2078", "\u2079"};
  const double e = std::floor(log10_p);
  std::string out = fmt("%.2g", std::pow(10.0, log10_p - e)) + "\u00d710\u207b";
  for (char c : fmt("%.0f", -e)) out += kSuper[c - '0'];
  return out;
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

std::string scores_plot(const json& plot, const json& scheme, const std::string& what) {
  const json& sc = plot.at("scores");
  if (sc.is_null()) return "<p class=\"note\">Not available: the run scored repeated tuples again (--no-dedup).</p>";
  const auto& observed = sc.at("observed");
  const auto& expected = sc.at("expected_under_null");
  const auto& lower = sc.at("bin_lower");
  const size_t n = observed.size();
  if (n == 0 || expected.size() != n || lower.size() != n) throw std::invalid_argument("plots: a malformed histogram");
  double total = 0, top = 0;
  for (size_t b = 0; b < n; ++b) {
    total += observed.at(b).get<double>();
    top = std::max({top, observed.at(b).get<double>(), expected.at(b).get<double>()});
  }
  if (total == 0) return "<p class=\"note\">Nothing was scored.</p>";
  const SchemeParams params = recorded_params(scheme);
  const NullModel null = null_model(params);
  const bool continuous = null.kind == NullKind::kExponential;
  SvgPlot p("plot-scores", "Scores of the tested " + what + " against what chance alone gives", score_label(params),
            "share of scored " + what, 0, continuous ? kGumbelBinWidth * static_cast<double>(n) : 1.0, 0,
            top / total * 1.1);
  if (!continuous) {
    // A discrete score is a category: bar pairs over its values, labelled with them (0 and 1, or 0..m).
    std::vector<std::string> labels;
    for (size_t b = 0; b < n; ++b) labels.push_back(fmt("%.0f", lower.at(b).get<double>()));
    p.x_categories(std::move(labels));
  }
  const double width = continuous ? kGumbelBinWidth : 1.0;
  for (size_t b = 0; b < n; ++b) {
    const double lo = continuous ? lower.at(b).get<double>() : static_cast<double>(b);
    p.bar(lo + 0.08 * width, lo + 0.48 * width, expected.at(b).get<double>() / total, "null");
    p.bar(lo + 0.52 * width, lo + 0.92 * width, observed.at(b).get<double>() / total, "observed");
  }
  p.legend("expected without the key", "null");
  p.legend("observed", "observed");
  std::string out = p.render() + "<p class=\"note\" id=\"null-mean\">Grey bars: the share of scored " + what +
                    " each score would have if the text had never seen the key (the record's null model); red bars: "
                    "the share observed. Without the key, a scored " +
                    (what == "tokens" ? std::string("token") : std::string("tuple")) + "'s score (" +
                    esc(score_label(params)) + ") averages " + fmt("%.4g", null_mean(null)) + ".</p>";
  if (continuous) out += "<p class=\"note\">The last bin holds every score from its lower edge up.</p>";
  return out;
}

std::string curve_plot(const json& plot, double alpha, const std::string& x_label, const json& documents) {
  const json& points = plot.at("curve").at("points");
  // The last two columns of a point are the count scored so far and log10 p; a first column is the document.
  std::vector<double> x, y;
  std::vector<std::string> names;
  double top = -std::log10(alpha), left = 0, right = 1;
  for (const json& pt : points) {
    if (pt.size() < 2) throw std::invalid_argument("plots: a curve point has fewer than two columns");
    const double scored = pt.at(pt.size() - 2).get<double>();
    if (!(scored >= 1)) continue;  // nothing scored yet
    x.push_back(scored);
    y.push_back(-pt.at(pt.size() - 1).get<double>());
    top = std::max(top, y.back());
    left = left == 0 ? scored : std::min(left, scored);
    right = std::max(right, scored);
    const bool named = pt.size() == 3 && pt.at(0).is_number_unsigned() && pt.at(0).get<uint64_t>() < documents.size();
    names.push_back(named ? document_name(documents.at(pt.at(0).get<uint64_t>())) : std::string());
  }
  if (x.empty()) return "<p class=\"note\">Nothing was scored.</p>";
  // A log axis when the counts span decades (a short marked document, then a long unmarked one), whole decades
  // around the data; else a linear axis from zero, with the origin as the curve's start.
  const bool log = right / left >= kLogAxisRatio;
  const double lo = log ? std::pow(10.0, std::floor(std::log10(left))) : 0;
  const double hi = log ? std::max(lo * 10, std::pow(10.0, std::ceil(std::log10(right)))) : right * 1.05;
  SvgPlot p("plot-curve", "Evidence growing as more is scored", x_label + (log ? " (log scale)" : ""),
            "-log10 p-value of the pooled test", lo, hi, 0, top * 1.1);
  if (log) p.log_x();
  std::vector<double> lx = x, ly = y;
  if (!log) {
    lx.insert(lx.begin(), 0.0);
    ly.insert(ly.begin(), 0.0);
  }
  p.line(lx, ly, "curve");
  const bool label = x.size() <= kMaxLabelledPoints;
  for (size_t i = 0; i < x.size(); ++i) {
    const std::string tip =
        (names[i].empty() ? "" : "after " + names[i] + ": ") + fmt("%.0f scored, p = ", x[i]) + p_label(-y[i]);
    p.point(x[i], y[i], "observed", tip, label && !names[i].empty() ? short_document_name(names[i]) : "");
  }
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
  // A centred moving average, much shorter than the window, so that the curve covers the whole document and shows
  // where the window's scores rise; the window's own mean is drawn across the band.
  const size_t span =
      std::clamp<size_t>(n / kSmoothingFraction, std::min(kMinSmoothing, n), std::min<size_t>(n, length));
  std::vector<double> x, y;
  double sum = 0, top = 0, in_window = 0;
  for (size_t i = 0; i < n; ++i) {
    const double s = scores.at(i).get<double>();
    sum += s;
    if (i >= start && i < start + length) in_window += s;
    if (i >= span) sum -= scores.at(i - span).get<double>();
    if (i + 1 >= span) {
      x.push_back(static_cast<double>(i + 1) - static_cast<double>(span) / 2);
      y.push_back(sum / static_cast<double>(span));
      top = std::max(top, y.back());
    }
  }
  const uint64_t end = std::min<uint64_t>(start + length, n);
  const double window_mean = end > start ? in_window / static_cast<double>(end - start) : 0;
  const double expected = null_mean(null_model(recorded_params(scheme)));
  top = std::max({top, expected, window_mean});
  SvgPlot p("plot-window", "Windowed detection along the document with the strongest passage",
            "position in the document (scored tokens)", "score per token", 0, static_cast<double>(n), 0, top * 1.15);
  p.band(static_cast<double>(start), static_cast<double>(start + length),
         "best window, p = " + p_label(w.at("log10_p_value").get<double>()) + " corrected");
  p.line(x, y, "curve");
  if (end > start)
    p.line({static_cast<double>(start), static_cast<double>(end)}, {window_mean, window_mean}, "winmean");
  p.reference(expected, "expected without the key: " + fmt("%.4g", expected));
  p.legend("moving average over " + std::to_string(span) + " tokens", "curve");
  p.legend("mean inside the window: " + fmt("%.3g", window_mean), "winmean");
  std::string out = p.render();
  out += "<p class=\"note\">Document: " + code(w.at("source").value("source", "")) + " (document " +
         std::to_string(count(w.at("document")) + 1) + " in input order), positions " + std::to_string(start) + " to " +
         std::to_string(start + length) + " of " + std::to_string(n) +
         (w.value("scores_truncated", false) ? " (the first ones shown)" : "") +
         ". The shaded band is the window with the smallest p-value, which is corrected for every window tried; the "
         "curve is the score averaged over a few tokens at a time, the dashed line what text without the key "
         "averages.</p>";
  return out;
}

}  // namespace telltale::evidence::report
