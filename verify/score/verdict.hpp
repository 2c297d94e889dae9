// The decision: every test that could have fired (each analysis's pooled test, and its windowed search when on) is
// one hypothesis of a family, adjusted with Holm; the watermark is detected when the smallest adjusted p <= alpha.
#pragma once

#include <span>
#include <vector>

#include "score/partial_result.hpp"

namespace telltale::score {

struct Verdict {
  double log_p = 0;              // the smallest Holm-adjusted ln p of the family: the reported p-value
  bool detected = false;         // log_p <= ln alpha
  std::vector<double> adjusted;  // Holm-adjusted ln p, in family order (see family_log_p)
};

// The family's raw ln p: for each summary, its pooled test, then (when the window search is on) its window test.
std::vector<double> family_log_p(std::span<const CorpusSummary> summaries, bool window_search);

// Holm over `family` (raw ln p values); alpha in (0, 1).
Verdict decide(std::span<const double> family, double alpha);

}  // namespace telltale::score
