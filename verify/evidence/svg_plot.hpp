// Small inline SVG charts for the HTML report, drawn in C++ so the report needs no script and no network: linear or
// log axes with ticks, categorical axes, bars, lines, points, a horizontal reference line and a shaded band.
#pragma once

#include <string>
#include <vector>

namespace telltale::evidence {

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& text);

class SvgPlot {
 public:
  // `id` becomes the <svg> element's id; ranges are data units (max > min, else widened).
  SvgPlot(std::string id, std::string title, std::string x_label, std::string y_label, double x_min, double x_max,
          double y_min, double y_max);

  // The axis setters (x_categories, y_categories, log_x) come before any drawing call.
  // Makes x categorical: category i spans [i, i + 1) and is labelled under its centre (labels thinned to fit).
  void x_categories(std::vector<std::string> labels);
  // Makes y categorical for a ranked list: row i spans [i, i + 1) from the top, named in a left margin wide enough
  // for its label; the plot grows in height to give each row room. Bars then run along x (row_bar).
  void y_categories(std::vector<std::string> labels);
  // Draws x on a log10 scale (x_min must be > 0): ticks at powers of ten.
  void log_x();

  // A bar from y = y_min up to y over [x0, x1); `css_class` picks its colour.
  void bar(double x0, double x1, double y, const std::string& css_class);
  // A bar along x from x_min to x in row `row` of a y-categorical plot.
  void row_bar(size_t row, double x, const std::string& css_class);
  // A polyline through (x, y) points.
  void line(const std::vector<double>& x, const std::vector<double>& y, const std::string& css_class);
  // A marker, with a tooltip when `tip` is not empty and a small label beside it when `label` is not empty.
  void point(double x, double y, const std::string& css_class, const std::string& tip = "",
             const std::string& label = "");
  // A dashed horizontal line at y, labelled at the right.
  void reference(double y, const std::string& label);
  // A dashed vertical line at x (for row_bar plots), labelled at the top.
  void reference_x(double x, const std::string& label);
  // A shaded vertical band over [x0, x1], labelled at the top.
  void band(double x0, double x1, const std::string& label);
  // A legend entry, drawn in a row above the plot area (never over the data).
  void legend(const std::string& label, const std::string& css_class);

  std::string render() const;

 private:
  double px(double x) const;
  double py(double y) const;
  double height() const;
  std::string x_ticks() const;
  std::string y_ticks() const;

  std::string id_, title_, x_label_, y_label_;
  double x_min_, x_max_, y_min_, y_max_;
  bool log_x_ = false;
  double left_;
  std::vector<std::string> x_categories_, y_categories_;
  std::string body_;
  std::vector<std::pair<std::string, std::string>> legend_;
};

}  // namespace telltale::evidence
