// The report's words for the model-aware test (detect --model, spec/statistics.md section 8): how the positions were
// weighted, by which model, and what the null is, beside the plain test's p-value.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace telltale::evidence {

// An HTML paragraph for a detection result that holds "model_aware"; "" for a plain one.
std::string model_aware_method_html(const nlohmann::json& result);

}  // namespace telltale::evidence
