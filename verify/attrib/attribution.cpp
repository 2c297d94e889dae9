// Ranking accounts and correcting for the family: exact binomial tails (verify/stats) under the bound theta.
#include "attrib/attribution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "stats/tails.hpp"

namespace telltale::attrib {

double null_match_bound(double account_delta) {
  const double sigmoid = 1.0 / (1.0 + std::exp(-account_delta));
  return 0.5 + (sigmoid - 0.5) * static_cast<double>(kFingerprintMaxAgreements) / kFingerprintSymbols;
}

std::vector<double> holm_partial_log(const std::vector<double>& candidates, uint64_t family) {
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return candidates[a] < candidates[b]; });
  std::vector<double> adjusted(candidates.size(), 0.0);
  double running = -std::numeric_limits<double>::infinity();
  for (size_t r = 0; r < order.size(); ++r) {
    // (family - r) p_(r+1), capped at 1, running maximum.
    const double scaled = candidates[order[r]] + std::log(static_cast<double>(family - r));
    running = std::max(running, std::min(0.0, scaled));
    adjusted[order[r]] = running;
  }
  return adjusted;
}

Attribution attribute(const AccountEvidence& evidence, const AccountRegistry& registry, double theta,
                      const AttributionOptions& options, uint64_t family, const WeightedMatchNull* weighted) {
  Attribution out;
  out.scored = evidence.scored();
  out.theta = theta;
  out.family = family == 0 ? registry.size() : family;
  out.weighted = weighted != nullptr;
  std::vector<uint64_t> matches;
  evidence.matches(registry, matches);
  // The p-value depends only on the match count: one tail per distinct count visited.
  std::unordered_map<uint64_t, double> tail;
  const auto log_p = [&](uint64_t k) {
    auto it = tail.find(k);
    if (it == tail.end()) {
      bool exact = true;
      const double lp = weighted ? weighted->log_sf(k, theta, &exact) : stats::log_binomial_sf(k, out.scored, theta);
      out.exact = out.exact && exact;
      it = tail.emplace(k, lp).first;
    }
    return it->second;
  };
  std::vector<uint32_t> order(registry.size());
  std::iota(order.begin(), order.end(), 0u);
  const auto better = [&](uint32_t a, uint32_t b) {
    return matches[a] > matches[b] || (matches[a] == matches[b] && a < b);
  };
  // Keep the top ones and every account with p <= alpha / registry size: a threshold on the match count.
  const double keep_log = std::log(options.alpha) - std::log(static_cast<double>(registry.size()));
  const size_t top = std::min(options.top, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(top), order.end(), better);
  size_t kept = top;
  if (top > 0 && log_p(matches[order[top - 1]]) <= keep_log) {
    std::sort(order.begin() + static_cast<ptrdiff_t>(top), order.end(), better);
    while (kept < order.size() && log_p(matches[order[kept]]) <= keep_log) ++kept;
  }
  std::vector<double> logs;
  for (size_t i = 0; i < kept; ++i) logs.push_back(log_p(matches[order[i]]));
  const std::vector<double> adjusted = holm_partial_log(logs, out.family);
  const double log_alpha = std::log(options.alpha);
  for (size_t i = 0; i < kept; ++i) {
    RankedAccount r;
    r.account = registry.ids()[order[i]];
    r.matches = matches[order[i]];
    r.log_p = logs[i];
    r.log_p_adjusted = adjusted[i];
    r.attributed = adjusted[i] <= log_alpha;
    if (r.attributed) ++out.attributed;
    out.ranked.push_back(r);
  }
  return out;
}

}  // namespace telltale::attrib
