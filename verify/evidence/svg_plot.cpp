#include "evidence/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace telltale::evidence {

namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 64, kRight = 16, kTop = 30, kBottom = 46;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A tick label: integers plainly, other values with up to 3 significant digits.
std::string tick_label(double v) {
  char buf[32];
  if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
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
      y_max_(y_max) {
  if (!(x_max_ > x_min_)) x_max_ = x_min_ + 1;
  if (!(y_max_ > y_min_)) y_max_ = y_min_ + 1;
}

double SvgPlot::px(double x) const {
  return kLeft + (kWidth - kLeft - kRight) * (std::clamp(x, x_min_, x_max_) - x_min_) / (x_max_ - x_min_);
}
double SvgPlot::py(double y) const {
  return kHeight - kBottom - (kHeight - kTop - kBottom) * (std::clamp(y, y_min_, y_max_) - y_min_) / (y_max_ - y_min_);
}

void SvgPlot::bar(double x0, double x1, double y, const std::string& css_class) {
  const double left = px(x0), right = px(x1), top = py(y), base = py(y_min_);
  body_ += "<rect class=\"" + css_class + "\" x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" +
           num(std::max(0.5, right - left)) + "\" height=\"" + num(base - top) + "\"/>";
}

void SvgPlot::line(const std::vector<double>& x, const std::vector<double>& y, const std::string& css_class) {
  std::string pts;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) pts += num(px(x[i])) + "," + num(py(y[i])) + " ";
  body_ += "<polyline class=\"" + css_class + "\" fill=\"none\" points=\"" + pts + "\"/>";
}

void SvgPlot::point(double x, double y, const std::string& css_class) {
  body_ += "<circle class=\"" + css_class + "\" cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"2.5\"/>";
}

void SvgPlot::reference(double y, const std::string& label) {
  body_ += "<line class=\"ref\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kWidth - kRight) + "\" y1=\"" + num(py(y)) +
           "\" y2=\"" + num(py(y)) + "\"/><text class=\"reflabel\" x=\"" + num(kWidth - kRight - 4) + "\" y=\"" +
           num(py(y) - 4) + "\" text-anchor=\"end\">" + html_escape(label) + "</text>";
}

void SvgPlot::band(double x0, double x1, const std::string& label) {
  body_ += "<rect class=\"band\" x=\"" + num(px(x0)) + "\" y=\"" + num(kTop) + "\" width=\"" +
           num(std::max(1.0, px(x1) - px(x0))) + "\" height=\"" + num(kHeight - kTop - kBottom) +
           "\"/><text class=\"reflabel\" x=\"" + num(px(x0)) + "\" y=\"" + num(kTop - 4) + "\">" + html_escape(label) +
           "</text>";
}

void SvgPlot::legend(const std::string& label, const std::string& css_class) { legend_.emplace_back(label, css_class); }

std::string SvgPlot::render() const {
  std::string s = "<svg id=\"" + html_escape(id_) + "\" class=\"plot\" viewBox=\"0 0 " + num(kWidth) + " " +
                  num(kHeight) + "\" role=\"img\" aria-label=\"" + html_escape(title_) + "\">";
  s += "<title>" + html_escape(title_) + "</title>";
  // Axes and ticks.
  s += "<line class=\"axis\" x1=\"" + num(kLeft) + "\" y1=\"" + num(py(y_min_)) + "\" x2=\"" + num(kWidth - kRight) +
       "\" y2=\"" + num(py(y_min_)) + "\"/>";
  s += "<line class=\"axis\" x1=\"" + num(kLeft) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(kLeft) + "\" y2=\"" +
       num(py(y_min_)) + "\"/>";
  for (double t : ticks(x_min_, x_max_)) {
    s += "<text class=\"tick\" x=\"" + num(px(t)) + "\" y=\"" + num(kHeight - kBottom + 16) +
         "\" text-anchor=\"middle\">" + tick_label(t) + "</text>";
  }
  for (double t : ticks(y_min_, y_max_)) {
    s += "<line class=\"grid\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kWidth - kRight) + "\" y1=\"" + num(py(t)) +
         "\" y2=\"" + num(py(t)) + "\"/><text class=\"tick\" x=\"" + num(kLeft - 6) + "\" y=\"" + num(py(t) + 4) +
         "\" text-anchor=\"end\">" + tick_label(t) + "</text>";
  }
  s += body_;
  s += "<text class=\"label\" x=\"" + num((kLeft + kWidth - kRight) / 2) + "\" y=\"" + num(kHeight - 8) +
       "\" text-anchor=\"middle\">" + html_escape(x_label_) + "</text>";
  s += "<text class=\"label\" transform=\"translate(14," + num((kTop + kHeight - kBottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(y_label_) + "</text>";
  double ly = kTop + 4;
  for (const auto& [label, css] : legend_) {
    s += "<rect class=\"" + css + "\" x=\"" + num(kLeft + 10) + "\" y=\"" + num(ly) + "\" width=\"10\" height=\"10\"/>";
    s += "<text class=\"tick\" x=\"" + num(kLeft + 26) + "\" y=\"" + num(ly + 9) + "\">" + html_escape(label) +
         "</text>";
    ly += 16;
  }
  return s + "</svg>";
}

}  // namespace telltale::evidence
