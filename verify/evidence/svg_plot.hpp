// Small inline SVG charts for the HTML report, drawn in C++ so the report needs no script and no network: linear
// axes with ticks, bars, lines, points, a horizontal reference line and a shaded band.
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

  // A bar from y = y_min up to y over [x0, x1); `css_class` picks its colour.
  void bar(double x0, double x1, double y, const std::string& css_class);
  // A polyline through (x, y) points.
  void line(const std::vector<double>& x, const std::vector<double>& y, const std::string& css_class);
  void point(double x, double y, const std::string& css_class);
  // A dashed horizontal line at y, labelled at the right.
  void reference(double y, const std::string& label);
  // A shaded vertical band over [x0, x1], labelled at the top.
  void band(double x0, double x1, const std::string& label);
  // A legend entry (drawn top left).
  void legend(const std::string& label, const std::string& css_class);

  std::string render() const;

 private:
  double px(double x) const;
  double py(double y) const;

  std::string id_, title_, x_label_, y_label_;
  double x_min_, x_max_, y_min_, y_max_;
  std::string body_;
  std::vector<std::pair<std::string, std::string>> legend_;
};

}  // namespace telltale::evidence
