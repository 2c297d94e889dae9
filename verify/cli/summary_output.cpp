#include "summary_output.hpp"

#include <cstdio>

#include "cli_common.hpp"
#include "score/report_json.hpp"

namespace telltale::cli {

int print_summary(std::vector<score::PartialResult>& results, double alpha, bool one_line) {
  std::vector<score::AnalysisInfo> infos;
  std::vector<score::CorpusSummary> summaries;
  for (score::PartialResult& r : results) {
    infos.push_back(r.info());
    auto summary = r.summarize_checked();  // a tuple set spilled to disk is read back here
    if (!summary) return fail(summary.status());
    summaries.push_back(*summary);
  }
  return print_summary(infos, summaries, alpha, one_line);
}

int print_summary(const std::vector<score::MergedAnalysis>& merged, double alpha, bool one_line) {
  std::vector<score::AnalysisInfo> infos;
  std::vector<score::CorpusSummary> summaries;
  for (const score::MergedAnalysis& m : merged) {
    infos.push_back(m.info);
    summaries.push_back(m.summary);
  }
  return print_summary(infos, summaries, alpha, one_line);
}

int print_summary(const std::vector<score::AnalysisInfo>& infos, const std::vector<score::CorpusSummary>& summaries,
                  double alpha, bool one_line) {
  const auto json = score::summary_json(infos, summaries, alpha, "telltale " TELLTALE_VERSION);
  std::printf("%s\n", json.dump(one_line ? -1 : 2).c_str());
  if (Status s = flush_stdout(); !s.is_ok()) return fail(s);  // a lost write is an error, with its reason
  return json.at("detected").get<bool>() ? kExitDetected : kExitNotDetected;
}

}  // namespace telltale::cli
