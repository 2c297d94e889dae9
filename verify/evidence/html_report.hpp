// The human report: one self-contained HTML file (no script, no external resource, inline SVG plots) that states the
// verdict in one sentence, what the p-value means, the method, the parameters and the key commitment, shows the
// plots, and carries the full record as an appendix. Prints to PDF cleanly (print stylesheet).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "telltale/status.hpp"

namespace telltale::evidence {

// Renders a record that parse_record accepted; a field of the wrong type elsewhere is an error naming it.
Result<std::string> render_html_report(const nlohmann::json& record);

// The verdict sentence the report opens with.
std::string verdict_sentence(const nlohmann::json& record);

}  // namespace telltale::evidence
