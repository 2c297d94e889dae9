// JSON reports. p-values appear twice: p_value (a double, which underflows to 0 below ~1e-308) and log10_p_value
// (exact far beyond that); the z-score is labelled as orientation only.
#include "score/report_json.hpp"

#include <cmath>

#include "stats/tails.hpp"

namespace telltale::score {

namespace {

const char* fraction_name(const NullModel& null) {
  switch (null.kind) {
    case NullKind::kBernoulli: return "green_fraction";
    case NullKind::kExponential: return "mean_score";
    case NullKind::kBinomial: return "g_value_fraction";
    case NullKind::kWeightedBits: return "weighted_g_value_fraction";
  }
  return "favoured_fraction";
}

const char* test_name(const NullModel& null) {
  switch (null.kind) {
    case NullKind::kBernoulli: return "exact binomial upper tail P(Bin(N, gamma) >= green)";
    case NullKind::kExponential: return "exact gamma upper tail P(Gamma(N, 1) >= sum of -ln(1 - r))";
    case NullKind::kBinomial: return "exact binomial upper tail P(Bin(m N, 1/2) >= sum of g-values)";
    case NullKind::kWeightedBits:
      return "exact upper tail of sum_l w_l Bin(N, 1/2), w = round(linspace(10, 1, m)) (Chernoff bound when "
             "marked)";
  }
  return "";
}

void put_p(nlohmann::json& j, double log_p) {
  j["p_value"] = std::exp(log_p);
  j["log10_p_value"] = stats::log10_from_ln(log_p);
}

nlohmann::json evidence_json(const Evidence& e, const NullModel& null) {
  nlohmann::json j = {{"scored_tokens", e.scored}, {"statistic", e.statistic}, {"expected", e.expected}};
  j[fraction_name(null)] = e.favoured_fraction();
  put_p(j, e.log_p);
  if (e.bound) j["p_value_is_upper_bound"] = true;
  j["z_score"] = e.z;
  return j;
}

nlohmann::json window_json(const stats::WindowMatch& w, const NullModel& null) {
  nlohmann::json j = {{"start", w.start},
                      {"length", w.length},
                      {"unit", null.kind == NullKind::kBinomial ? "g-values" : "scored tokens"},
                      {"statistic", w.statistic},
                      {"log10_p_uncorrected", stats::log10_from_ln(w.log_p)},
                      {"windows_tried", w.windows_tried}};
  put_p(j, w.log_p_corrected);
  return j;
}

nlohmann::json rules_json(const AnalysisInfo& info) {
  nlohmann::json j = {{"dedup", info.rules.dedup ? "each (context window, token) tuple scored once per corpus"
                                                 : "off: repeated tuples are scored again"},
                      {"first_window_skipped", info.window_size},
                      {"prompt", "skipped when known (--prompt); its tuples count as seen"},
                      {"test", test_name(info.null)}};
  if (info.rules.window_min > 0) {
    j["window_search"] = {{"min_length", info.rules.window_min},
                          {"length_ratio", info.rules.window_ratio},
                          {"correction", "Bonferroni over windows tried, then over documents searched"}};
  } else {
    j["window_search"] = false;
  }
  return j;
}

}  // namespace

nlohmann::json document_json(const input::Document& doc, std::span<const AnalysisInfo> infos,
                             std::span<const DocumentScore> scores, double alpha) {
  nlohmann::json j = {{"source", doc.source}, {"line", doc.line}, {"index", doc.index}};
  std::vector<double> family;
  nlohmann::json analyses = nlohmann::json::array();
  for (size_t a = 0; a < scores.size(); ++a) {
    const DocumentScore& s = scores[a];
    const Evidence e = evaluate(s.tally, infos[a].null);
    nlohmann::json one = evidence_json(e, infos[a].null);
    one["key_id"] = infos[a].key_id;
    one["tokens"] = s.tokens;
    one["prompt_tokens"] = s.prompt_tokens;
    one["no_context"] = s.no_context;
    one["duplicates"] = s.duplicates;
    family.push_back(e.log_p);
    if (infos[a].rules.window_min > 0) {
      const double wp = s.window_searched ? s.window.log_p_corrected : 0.0;
      family.push_back(wp);
      one["window"] = s.window_searched ? window_json(s.window, infos[a].null) : nlohmann::json(nullptr);
    }
    analyses.push_back(std::move(one));
  }
  const Verdict v = decide(family, alpha);
  if (analyses.size() == 1) {
    j.update(analyses[0]);
  } else {
    j["analyses"] = std::move(analyses);
  }
  put_p(j, v.log_p);
  j["detected"] = v.detected;
  return j;
}

Verdict summary_verdict(std::span<const AnalysisInfo> infos, std::span<const CorpusSummary> summaries, double alpha) {
  const bool window = !infos.empty() && infos[0].rules.window_min > 0;
  const auto family = family_log_p(summaries, window);
  return decide(family, alpha);
}

nlohmann::json summary_json(std::span<const AnalysisInfo> infos, std::span<const CorpusSummary> summaries, double alpha,
                            const std::string& version) {
  const Verdict v = summary_verdict(infos, summaries, alpha);
  const bool window = !infos.empty() && infos[0].rules.window_min > 0;
  // The analysis whose test gave the reported p-value.
  const size_t per = window ? 2 : 1;
  size_t best_test = 0;
  for (size_t i = 1; i < v.adjusted.size(); ++i) {
    if (v.adjusted[i] < v.adjusted[best_test]) best_test = i;
  }
  const size_t best = best_test / per;
  nlohmann::json j;
  put_p(j, v.log_p);
  j["scored_tokens"] = summaries.empty() ? 0 : summaries[best].pooled.scored;
  j["detected"] = v.detected;
  j["alpha"] = alpha;
  j["hypotheses"] = v.adjusted.size();
  j["multiple_testing"] = "Holm over every key, scheme and test tried (pooled test, and window search when on)";
  if (!infos.empty()) {
    j["key_id"] = infos[best].key_id;
    j["configuration"] = infos[best].configuration;
    j["tokenizer_sha256"] = infos[best].tokenizer_sha256;
    j["rules"] = rules_json(infos[best]);
  }
  if (!summaries.empty()) {
    const CorpusSummary& s = summaries[best];
    j["documents"] = s.documents;
    j["tokens"] = s.tokens;
    j["skipped_bad"] = s.skipped_bad;
  }
  nlohmann::json analyses = nlohmann::json::array();
  for (size_t a = 0; a < summaries.size(); ++a) {
    const CorpusSummary& s = summaries[a];
    const NullModel& null = infos[a].null;
    nlohmann::json one = {{"key_id", infos[a].key_id},
                          {"configuration", infos[a].configuration},
                          {"pooled", evidence_json(s.pooled, null)},
                          {"skipped",
                           {{"prompt_tokens", s.prompt_tokens},
                            {"no_context", s.no_context},
                            {"duplicates_in_documents", s.duplicates_in_documents},
                            {"duplicates_across_documents", s.duplicates_across_documents}}}};
    one["pooled"]["log10_p_holm"] = stats::log10_from_ln(v.adjusted[a * per]);
    nlohmann::json fisher = {{"documents", s.fisher_documents},
                             {"note", "per-document tests over disjoint tuple sets; reported, not used for detected"}};
    put_p(fisher, s.fisher_log_p);
    one["fisher"] = std::move(fisher);
    if (window) {
      nlohmann::json w = {{"documents_searched", s.window_documents}};
      if (s.window.length > 0) {
        w["document"] = s.window_doc;
        w["best"] = window_json(s.window, null);
      }
      put_p(w, s.window_log_p);
      w["log10_p_holm"] = stats::log10_from_ln(v.adjusted[a * per + 1]);
      one["window"] = std::move(w);
    }
    analyses.push_back(std::move(one));
  }
  j["analyses"] = std::move(analyses);
  j["format"] = kReportFormat;
  j["software"] = version;
  return j;
}

}  // namespace telltale::score
