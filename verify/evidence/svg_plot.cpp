// The SVG charts of the report: axes (linear, log10 or categorical), marks, reference lines and a legend row above
// the plot area, so that no legend or label sits on the data.
#include "evidence/svg_plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace telltale::evidence {

namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 64, kRight = 16, kTop = 42, kBottom = 46;
constexpr double kRowHeight = 18;   // one row of a y-categorical plot
constexpr double kCharWidth = 6.2;  // of an 11 px tick label, for the left margin of row names
constexpr size_t kMaxXLabels = 16;  // more categories than this: every k-th is labelled
constexpr double kMaxLeft = 260;

std::string num(double v) { return fmt::format("{:.1f}", v); }

// A tick label: integers plainly, other values with up to 3 significant digits.
std::string tick_label(double v) {
  const bool whole = std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15;
  return whole ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v);
}

// A power of ten for a log axis: 1, 10, 100, 1000, 10k, 100k, 1M, 10M, then 1e8...
std::string power_label(int e) {
  if (e < 0 || e > 7) return "1e" + std::to_string(e);
  static const char* const kNames[] = {"1", "10", "100", "1000", "10k", "100k", "1M", "10M"};
  return kNames[e];
}

// About five round tick values in [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9 && out.size() < 20; t += step) out.push_back(t);
  return out;
}

std::string text(double x, double y, const char* css, const char* anchor, const std::string& content) {
  return "<text class=\"" + std::string(css) + "\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor +
         "\">" + content + "</text>";
}

std::string hline(const char* css, double x1, double x2, double y) {
  return "<line class=\"" + std::string(css) + "\" x1=\"" + num(x1) + "\" x2=\"" + num(x2) + "\" y1=\"" + num(y) +
         "\" y2=\"" + num(y) + "\"/>";
}

std::string vline(const char* css, double x, double y1, double y2) {
  return "<line class=\"" + std::string(css) + "\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(y1) +
         "\" y2=\"" + num(y2) + "\"/>";
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

SvgPlot::SvgPlot(std::string id, std::string title, std::string x_label, std::string y_label, double x_min,
                 double x_max, double y_min, double y_max)
    : id_(std::move(id)),
      title_(std::move(title)),
      x_label_(std::move(x_label)),
      y_label_(std::move(y_label)),
      x_min_(x_min),
      x_max_(x_max),
      y_min_(y_min),
      y_max_(y_max),
      left_(kLeft) {
  if (!(x_max_ > x_min_)) x_max_ = x_min_ + 1;
  if (!(y_max_ > y_min_)) y_max_ = y_min_ + 1;
}

void SvgPlot::x_categories(std::vector<std::string> labels) {
  x_categories_ = std::move(labels);
  x_min_ = 0;
  x_max_ = static_cast<double>(std::max<size_t>(1, x_categories_.size()));
}

void SvgPlot::y_categories(std::vector<std::string> labels) {
  y_categories_ = std::move(labels);
  y_min_ = 0;
  y_max_ = static_cast<double>(std::max<size_t>(1, y_categories_.size()));
  size_t longest = 0;
  for (const std::string& l : y_categories_) longest = std::max(longest, l.size());
  left_ = std::clamp(static_cast<double>(longest) * kCharWidth + 14, kLeft, kMaxLeft);
}

void SvgPlot::log_x() {
  log_x_ = true;
  if (!(x_min_ > 0)) x_min_ = 1;
  if (!(x_max_ > x_min_)) x_max_ = x_min_ * 10;
}

double SvgPlot::height() const {
  if (y_categories_.empty()) return kHeight;
  return kTop + kBottom + kRowHeight * static_cast<double>(y_categories_.size());
}

double SvgPlot::px(double x) const {
  const double width = kWidth - left_ - kRight;
  if (log_x_) {
    const double lo = std::log10(x_min_), hi = std::log10(x_max_);
    return left_ + width * (std::clamp(std::log10(std::max(x, x_min_)), lo, hi) - lo) / (hi - lo);
  }
  return left_ + width * (std::clamp(x, x_min_, x_max_) - x_min_) / (x_max_ - x_min_);
}

double SvgPlot::py(double y) const {
  const double h = height() - kTop - kBottom;
  // Rows count from the top; values from the bottom.
  if (!y_categories_.empty()) return kTop + h * (std::clamp(y, y_min_, y_max_) - y_min_) / (y_max_ - y_min_);
  return height() - kBottom - h * (std::clamp(y, y_min_, y_max_) - y_min_) / (y_max_ - y_min_);
}

void SvgPlot::bar(double x0, double x1, double y, const std::string& css_class) {
  const double left = px(x0), right = px(x1), top = py(y), base = py(y_min_);
  body_ += "<rect class=\"" + css_class + "\" x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" +
           num(std::max(0.5, right - left)) + "\" height=\"" + num(base - top) + "\"/>";
}

void SvgPlot::row_bar(size_t row, double x, const std::string& css_class) {
  const double r = static_cast<double>(row);
  const double top = py(r + 0.15), bottom = py(r + 0.85), left = px(x_min_), right = px(x);
  body_ += "<rect class=\"" + css_class + "\" x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" +
           num(std::max(0.5, right - left)) + "\" height=\"" + num(bottom - top) + "\"/>";
}

void SvgPlot::line(const std::vector<double>& x, const std::vector<double>& y, const std::string& css_class) {
  std::string pts;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) pts += num(px(x[i])) + "," + num(py(y[i])) + " ";
  body_ += "<polyline class=\"" + css_class + "\" fill=\"none\" points=\"" + pts + "\"/>";
}

void SvgPlot::point(double x, double y, const std::string& css_class, const std::string& tip,
                    const std::string& label) {
  body_ += "<circle class=\"" + css_class + "\" cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"3\">";
  if (!tip.empty()) body_ += "<title>" + html_escape(tip) + "</title>";
  body_ += "</circle>";
  // Beside the marker, on the side with room.
  if (!label.empty()) {
    const bool right_half = px(x) > (left_ + kWidth - kRight) / 2;
    body_ +=
        text(px(x) + (right_half ? -6 : 6), py(y) + 4, "reflabel", right_half ? "end" : "start", html_escape(label));
  }
}

void SvgPlot::reference(double y, const std::string& label) {
  body_ += hline("ref", left_, kWidth - kRight, py(y)) +
           text(kWidth - kRight - 4, py(y) - 4, "reflabel", "end", html_escape(label));
}

void SvgPlot::reference_x(double x, const std::string& label) {
  body_ += vline("ref", px(x), kTop, py(y_max_)) + text(px(x), kTop - 4, "reflabel", "middle", html_escape(label));
}

void SvgPlot::band(double x0, double x1, const std::string& label) {
  body_ += "<rect class=\"band\" x=\"" + num(px(x0)) + "\" y=\"" + num(kTop) + "\" width=\"" +
           num(std::max(1.0, px(x1) - px(x0))) + "\" height=\"" + num(height() - kTop - kBottom) + "\"/>" +
           text(px(x0), kTop - 4, "reflabel", "start", html_escape(label));
}

void SvgPlot::legend(const std::string& label, const std::string& css_class) { legend_.emplace_back(label, css_class); }

std::string SvgPlot::x_ticks() const {
  const double y = height() - kBottom + 16;
  std::string s;
  if (!x_categories_.empty()) {
    const size_t n = x_categories_.size(), every = (n + kMaxXLabels - 1) / kMaxXLabels;
    for (size_t i = 0; i < n; i += every) {
      s += text(px(static_cast<double>(i) + 0.5), y, "tick", "middle", html_escape(x_categories_[i]));
    }
    return s;
  }
  if (log_x_) {
    for (int e = static_cast<int>(std::ceil(std::log10(x_min_) - 1e-9)); std::pow(10.0, e) <= x_max_ * (1 + 1e-9);
         ++e) {
      s += vline("grid", px(std::pow(10.0, e)), kTop, height() - kBottom) +
           text(px(std::pow(10.0, e)), y, "tick", "middle", power_label(e));
    }
    return s;
  }
  for (double t : ticks(x_min_, x_max_)) s += text(px(t), y, "tick", "middle", tick_label(t));
  return s;
}

std::string SvgPlot::y_ticks() const {
  std::string s;
  if (!y_categories_.empty()) {
    for (size_t i = 0; i < y_categories_.size(); ++i) {
      s += text(left_ - 6, py(static_cast<double>(i) + 0.5) + 4, "tick", "end", html_escape(y_categories_[i]));
    }
    return s;
  }
  for (double t : ticks(y_min_, y_max_)) {
    s += hline("grid", left_, kWidth - kRight, py(t)) + text(left_ - 6, py(t) + 4, "tick", "end", tick_label(t));
  }
  return s;
}

std::string SvgPlot::render() const {
  const double base = height() - kBottom;
  std::string s = "<svg id=\"" + html_escape(id_) + "\" class=\"plot\" viewBox=\"0 0 " + num(kWidth) + " " +
                  num(height()) + "\" role=\"img\" aria-label=\"" + html_escape(title_) + "\">";
  s += "<title>" + html_escape(title_) + "</title>";
  s += x_ticks() + y_ticks();
  s += hline("axis", left_, kWidth - kRight, base) + vline("axis", left_, kTop, base);
  s += body_;
  s += text((left_ + kWidth - kRight) / 2, height() - 8, "label", "middle", html_escape(x_label_));
  if (y_categories_.empty()) {
    s += "<text class=\"label\" transform=\"translate(14," + num((kTop + base) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(y_label_) + "</text>";
  }
  // The legend: one row above the plot area, left to right.
  double lx = left_;
  for (const auto& [label, css] : legend_) {
    s += "<rect class=\"" + css + " legend\" x=\"" + num(lx) + "\" y=\"6\" width=\"10\" height=\"10\"/>";
    s += text(lx + 15, 15, "tick", "start", html_escape(label));
    lx += 15 + kCharWidth * static_cast<double>(label.size()) + 18;
  }
  return s + "</svg>";
}

}  // namespace telltale::evidence
