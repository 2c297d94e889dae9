// Holm across keys, schemes and the windowed search (spec/statistics.md section 3).
#include "score/verdict.hpp"

#include <algorithm>
#include <cmath>

#include "stats/multiple_testing.hpp"

namespace telltale::score {

std::vector<double> family_log_p(std::span<const CorpusSummary> summaries, bool window_search) {
  std::vector<double> family;
  for (const CorpusSummary& s : summaries) {
    family.push_back(s.pooled.log_p);
    if (window_search) family.push_back(s.window_log_p);
  }
  return family;
}

Verdict decide(std::span<const double> family, double alpha) {
  Verdict v;
  if (family.empty()) return v;
  v.adjusted = stats::holm_adjust_log(family);
  v.log_p = *std::min_element(v.adjusted.begin(), v.adjusted.end());
  v.detected = v.log_p <= std::log(alpha);
  return v;
}

}  // namespace telltale::score
