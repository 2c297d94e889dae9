#include "evidence/evidence_collector.hpp"

#include <algorithm>
#include <cmath>

#include "score/report_json.hpp"
#include "stats/tails.hpp"
#include "telltale/scheme.hpp"

namespace telltale::evidence {

namespace {

constexpr size_t kGumbelBins = 16;
constexpr double kGumbelBinWidth = 0.5;

// The largest weighted-mean score of a token: the sum of the m layer weights.
long weighted_max(const NullModel& null) {
  long w = 0;
  for (uint32_t l = 0; l < null.layers; ++l) w += tournament_weight(l, null.layers);
  return w;
}

}  // namespace

size_t histogram_bin(const NullModel& null, double score) {
  switch (null.kind) {
    case NullKind::kBernoulli: return score > 0.5 ? 1 : 0;
    case NullKind::kBinomial: return static_cast<size_t>(std::clamp(std::lround(score), 0L, long{null.layers}));
    case NullKind::kWeightedBits: return static_cast<size_t>(std::clamp(std::lround(score), 0L, weighted_max(null)));
    case NullKind::kExponential: {
      if (!(score >= 0)) return 0;
      return std::min(kGumbelBins - 1, static_cast<size_t>(score / kGumbelBinWidth));
    }
  }
  return 0;
}

std::vector<double> null_bin_mass(const NullModel& null) {
  std::vector<double> mass;
  switch (null.kind) {
    case NullKind::kBernoulli: mass = {1.0 - null.p, null.p}; break;
    case NullKind::kBinomial: {
      // C(m, k) / 2^m: exact in doubles for m <= 32.
      double c = 1;
      for (uint32_t k = 0; k <= null.layers; ++k) {
        mass.push_back(std::ldexp(c, -static_cast<int>(null.layers)));
        c = c * static_cast<double>(null.layers - k) / static_cast<double>(k + 1);
      }
      break;
    }
    case NullKind::kWeightedBits: {
      // The law of sum_l w_l B_l, B_l fair bits: a DP over the layers, each step halving (exact in doubles).
      mass.assign(static_cast<size_t>(weighted_max(null)) + 1, 0.0);
      mass[0] = 1.0;
      for (uint32_t l = 0; l < null.layers; ++l) {
        const size_t w = tournament_weight(l, null.layers);
        for (size_t v = mass.size(); v-- > 0;) mass[v] = 0.5 * (mass[v] + (v >= w ? mass[v - w] : 0.0));
      }
      break;
    }
    case NullKind::kExponential:
      for (size_t b = 0; b < kGumbelBins; ++b) {
        const double lo = std::exp(-kGumbelBinWidth * static_cast<double>(b));
        const double hi = b + 1 == kGumbelBins ? 0.0 : std::exp(-kGumbelBinWidth * static_cast<double>(b + 1));
        mass.push_back(lo - hi);
      }
      break;
  }
  return mass;
}

nlohmann::json score_histogram_json(const NullModel& null, const std::vector<uint64_t>& observed, uint64_t scored) {
  const std::vector<double> mass = null_bin_mass(null);
  nlohmann::json expected = nlohmann::json::array();
  for (double m : mass) expected.push_back(m * static_cast<double>(scored));
  nlohmann::json lower = nlohmann::json::array();
  for (size_t b = 0; b < mass.size(); ++b) {
    lower.push_back(null.kind == NullKind::kExponential ? kGumbelBinWidth * static_cast<double>(b)
                                                        : static_cast<double>(b));
  }
  return {{"bin_lower", std::move(lower)},
          {"observed", observed},
          {"expected_under_null", std::move(expected)},
          {"unit", null.kind == NullKind::kExponential    ? "-ln(1 - r)"
                   : null.kind == NullKind::kBinomial     ? "g-values equal to 1"
                   : null.kind == NullKind::kWeightedBits ? "weighted sum of the g-values"
                                                          : "green (1) or red (0)"}};
}

EvidenceCollector::EvidenceCollector(std::vector<score::AnalysisInfo> infos, double alpha)
    : infos_(std::move(infos)), alpha_(alpha), series_(infos_.size()) {
  for (size_t a = 0; a < infos_.size(); ++a) series_[a].histogram.assign(null_bin_mass(infos_[a].null).size(), 0);
}

void EvidenceCollector::add_curve_point(Series& s, const NullModel& null, uint64_t doc) {
  // The newest point replaces the previous one unless that one falls on the stride (so the last document is always
  // there, and the kept ones are evenly spaced).
  if (!s.curve.empty() && static_cast<uint64_t>(s.curve.back()[0]) % stride_ != 0) s.curve.pop_back();
  const score::Evidence e = score::evaluate(s.pooled, null);
  s.curve.push_back({static_cast<double>(doc), static_cast<double>(e.scored), stats::log10_from_ln(e.log_p)});
}

void EvidenceCollector::add(const input::Document& doc, std::span<const score::DocumentScore> scores) {
  documents_.push_back(score::document_json(doc, infos_, scores, alpha_));
  const uint64_t ordinal = count_++;
  for (size_t a = 0; a < series_.size() && a < scores.size(); ++a) {
    Series& s = series_[a];
    const score::DocumentScore& d = scores[a];
    const NullModel& null = infos_[a].null;
    if (infos_[a].rules.dedup) {
      for (const score::TupleEntry& t : d.entries) {
        if (!s.seen.insert(t.hash).second) continue;
        s.pooled.add(t.score);
        ++s.histogram[histogram_bin(null, t.score)];
      }
    } else {
      s.pooled.add(d.tally);
    }
    add_curve_point(s, null, ordinal);
    if (d.window_searched && d.window.length > 0 && (!s.has_window || d.window.log_p_corrected < s.window_log_p)) {
      s.has_window = true;
      s.window_log_p = d.window.log_p_corrected;
      s.window_doc = ordinal;
      s.window_source = {{"source", doc.source}, {"line", doc.line}, {"index", doc.index}};
      s.window = d.window;
      s.window_scores.clear();
      s.truncated_scores = d.entries.size() > kMaxTraceScores;
      for (size_t i = 0; i < d.entries.size() && i < kMaxTraceScores; ++i)
        s.window_scores.push_back(d.entries[i].score);
    }
  }
  // Thinning: once a series holds kMaxCurvePoints points, keep every other kept ordinal.
  if (!series_.empty() && series_[0].curve.size() >= kMaxCurvePoints) {
    stride_ *= 2;
    for (Series& s : series_) {
      std::vector<std::array<double, 3>> kept;
      for (size_t i = 0; i < s.curve.size(); ++i) {
        const auto doc_ordinal = static_cast<uint64_t>(s.curve[i][0]);
        if (doc_ordinal % stride_ == 0 || i + 1 == s.curve.size()) kept.push_back(s.curve[i]);
      }
      s.curve = std::move(kept);
    }
  }
}

nlohmann::json EvidenceCollector::plots() const {
  nlohmann::json out = nlohmann::json::array();
  for (size_t a = 0; a < series_.size(); ++a) {
    const Series& s = series_[a];
    const NullModel& null = infos_[a].null;
    nlohmann::json one = {{"key_id", infos_[a].key_id}};
    nlohmann::json curve = nlohmann::json::array();
    for (const auto& p : s.curve) curve.push_back({static_cast<uint64_t>(p[0]), static_cast<uint64_t>(p[1]), p[2]});
    one["curve"] = {{"columns", {"document", "scored_tokens", "log10_p_value"}}, {"points", std::move(curve)}};
    if (infos_[a].rules.dedup) {
      one["scores"] = score_histogram_json(null, s.histogram, s.pooled.scored);
    } else {
      one["scores"] = nullptr;
    }
    if (s.has_window) {
      const uint64_t per = null.kind == NullKind::kBinomial ? null.layers : 1;  // tournament windows count g-values
      one["window"] = {{"document", s.window_doc},
                       {"source", s.window_source},
                       {"start", s.window.start / per},
                       {"length", (s.window.length + per - 1) / per},
                       {"log10_p_value", stats::log10_from_ln(s.window.log_p_corrected)},
                       {"scores", s.window_scores},
                       {"scores_truncated", s.truncated_scores}};
    } else {
      one["window"] = nullptr;
    }
    out.push_back(std::move(one));
  }
  return out;
}

}  // namespace telltale::evidence
