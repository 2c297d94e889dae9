// The model-aware test's method paragraph of the HTML report.
#include "evidence/model_aware_report.hpp"

#include <cstdio>

#include "evidence/record.hpp"
#include "evidence/svg_plot.hpp"

namespace telltale::evidence {

std::string model_aware_method_html(const nlohmann::json& result) {
  if (!result.contains("model_aware") || !result["model_aware"].is_object()) return "";
  const nlohmann::json& m = result["model_aware"];
  const nlohmann::json& w = m.value("weights", nlohmann::json::object());
  std::string method = "exact tail";
  bool all_exact = true;
  for (const nlohmann::json& a : m.value("analyses", nlohmann::json::array())) {
    if (!a.value("exact", false)) all_exact = false;
  }
  method = all_exact ? "exactly, with every weight rounded up onto a grid (which can only raise the p-value)"
                     : "with a Chernoff bound from the exact moment generating function (an upper bound)";
  std::string h =
      "<p id=\"model-aware\">Model-aware test, chosen before the data: each scored token counts with a "
      "weight the owner's model gives its position (" +
      html_escape(w.value("kind", std::string("?"))) +
      ": how much watermark that position could carry, computed from the model's next-token "
      "distribution alone, never from the key; model SHA-256 " +
      html_escape(w.value("model_sha256", std::string("?"))) +
      "). The p-value is the chance that text written without the key reaches the observed weighted "
      "score, computed " +
      method + ".";
  if (result.contains("plain") && result["plain"].contains("log10_p_value") &&
      result["plain"]["log10_p_value"].is_number()) {
    h += " The plain (unweighted) test, for comparison only, would happen " +
         html_escape(once_in(result["plain"]["log10_p_value"].get<double>())) + " by chance.";
  }
  return h + "</p>\n";
}

}  // namespace telltale::evidence
