// The report's plots and the small formatting helpers the report's text shares with them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "evidence/svg_plot.hpp"
#include "telltale/scheme.hpp"

namespace telltale::evidence::report {

inline std::string esc(const std::string& s) { return html_escape(s); }
std::string code(const std::string& s);
// printf of one double.
std::string fmt(const char* format, double v);
// "3.2 x 10^-45" from log10 p, exact beyond double range: HTML (&times; and <sup>) or plain text ("x" and "^").
std::string p_text(double log10_p, bool html = true);
// The same for a plot label or tooltip (SVG text): "3.2×10⁻⁴⁵" in Unicode superscripts.
std::string p_label(double log10_p);
// A count from the record: a non-negative integer, else the report cannot be rendered (no float-to-integer cast).
uint64_t count(const nlohmann::json& j);
// The parameters a record's scheme object gives (through the record reader, so old field names still read); the
// scheme table then says what its scores mean. Throws std::invalid_argument for a scheme the reader refuses.
SchemeParams recorded_params(const nlohmann::json& scheme);

// The histogram of per-token scores against what chance alone gives (the record's own expected counts): one bar pair
// per category for a discrete score (0/1, a count of g-values), bins on a continuous axis for Gumbel's. `what`: the
// plural noun for what was scored ("tokens", "tuples").
std::string scores_plot(const nlohmann::json& plot, const nlohmann::json& scheme, const std::string& what);
// The pooled test's -log10 p against the count scored so far, on a log axis, one marker per recorded point (each
// named after its document when `documents` has them), so that even one document shows.
std::string curve_plot(const nlohmann::json& plot, double alpha, const std::string& x_label,
                       const nlohmann::json& documents = nlohmann::json::array());
// The per-token score along the document with the strongest window: a centred moving average, the best window shaded
// with its own mean drawn over it, and the null mean.
std::string window_plot(const nlohmann::json& plot, const nlohmann::json& scheme);

}  // namespace telltale::evidence::report
