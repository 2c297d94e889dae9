// The report's plots and the small formatting helpers the report's text shares with them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "evidence/svg_plot.hpp"
#include "telltale/scheme.hpp"

namespace telltale::evidence::report {

inline constexpr size_t kMaxPlottedDocuments = 400;

inline std::string esc(const std::string& s) { return html_escape(s); }
std::string code(const std::string& s);
// printf of one double.
std::string fmt(const char* format, double v);
// A count from the record: a non-negative integer, else the report cannot be rendered (no float-to-integer cast).
uint64_t count(const nlohmann::json& j);
// The parameters a record's scheme object gives (through the record reader, so old field names still read); the
// scheme table then says what its scores mean. Throws std::invalid_argument for a scheme the reader refuses.
SchemeParams recorded_params(const nlohmann::json& scheme);

// The histogram of per-token scores against what chance alone gives. `what`: the plural noun for what was scored
// ("tokens", "tuples").
std::string scores_plot(const nlohmann::json& plot, const nlohmann::json& scheme, const std::string& what);
// Each document's -log10 p against alpha.
std::string documents_plot(const nlohmann::json& record, double alpha);
// The pooled test's -log10 p against the count scored so far.
std::string curve_plot(const nlohmann::json& plot, double alpha, const std::string& x_label);
// The moving average of the per-token score along the document with the strongest window, with the null mean.
std::string window_plot(const nlohmann::json& plot, const nlohmann::json& scheme);
// Each document's best account: -log10 of its p-value after Holm over the registry.
std::string best_account_plot(const nlohmann::json& plot, double alpha);

}  // namespace telltale::evidence::report
