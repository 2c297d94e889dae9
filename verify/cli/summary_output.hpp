// Printing a corpus summary and turning its verdict into the exit code: shared by `detect` and `merge`, so both
// print the same JSON for the same partial results.
#pragma once

#include <vector>

#include "score/partial_merge.hpp"
#include "score/partial_result.hpp"

namespace telltale::cli {

// Prints the summary JSON on stdout (one line when `one_line`, else indented) and returns kExitDetected or
// kExitNotDetected.
int print_summary(std::vector<score::PartialResult>& results, double alpha, bool one_line);
int print_summary(const std::vector<score::MergedAnalysis>& merged, double alpha, bool one_line);
int print_summary(const std::vector<score::AnalysisInfo>& infos, const std::vector<score::CorpusSummary>& summaries,
                  double alpha, bool one_line);

}  // namespace telltale::cli
