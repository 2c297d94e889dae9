// Multiple-testing corrections on log p-values: Bonferroni, Sidak, Holm, Fisher's combination.
#include "stats/multiple_testing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "stats/tails.hpp"

namespace telltale::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool valid_log_p(double lp) { return lp <= 0.0; }  // false for NaN; -inf (p = 0) is valid

}  // namespace

double bonferroni_log(double log_p, uint64_t m) noexcept {
  if (!valid_log_p(log_p) || m == 0) return kNaN;
  return std::min(0.0, log_p + std::log(static_cast<double>(m)));
}

std::vector<double> bonferroni_adjust_log(std::span<const double> log_p) {
  std::vector<double> out(log_p.size());
  for (size_t i = 0; i < log_p.size(); ++i) out[i] = bonferroni_log(log_p[i], log_p.size());
  return out;
}

double sidak_log(double log_p, uint64_t m) noexcept {
  if (!valid_log_p(log_p) || m == 0) return kNaN;
  const double md = static_cast<double>(m);
  const double log_mp = log_p + std::log(md);
  // 1 - (1-p)^m = m p (1 - (m-1) p / 2 + ...): when m p < e^-40 the correction is below 1e-17
  // relative, and this branch also keeps p = 1e-5000 from underflowing to ln 0.
  if (log_p == -std::numeric_limits<double>::infinity()) return log_p;
  if (log_mp < -40.0) return log_mp;
  // ln(1 - exp(m ln(1 - p))), both steps via log1m_exp / expm1 to keep full relative accuracy.
  return std::log(-std::expm1(md * log1m_exp(log_p)));
}

std::vector<double> holm_adjust_log(std::span<const double> log_p) {
  const size_t m = log_p.size();
  std::vector<double> out(m, kNaN);
  if (!std::all_of(log_p.begin(), log_p.end(), valid_log_p)) return out;
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return log_p[a] < log_p[b]; });
  double running = -std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < m; ++j) {  // j is 0-based: the multiplier is m - j
    const double adj = std::min(0.0, log_p[order[j]] + std::log(static_cast<double>(m - j)));
    running = std::max(running, adj);
    out[order[j]] = running;
  }
  return out;
}

double fisher_statistic(std::span<const double> log_p) noexcept {
  if (log_p.empty() || !std::all_of(log_p.begin(), log_p.end(), valid_log_p)) return kNaN;
  double s = 0.0;
  for (double lp : log_p) s -= lp;
  return 2.0 * s;
}

double fisher_combine_log(std::span<const double> log_p) noexcept {
  const double stat = fisher_statistic(log_p);
  if (std::isnan(stat)) return kNaN;
  // chi2 with 2k dof = 2 * Gamma(k, 1), so P(chi2_{2k} >= X) = P(Gamma(k, 1) >= X / 2).
  return log_gamma_sf(0.5 * stat, static_cast<double>(log_p.size()));
}

}  // namespace telltale::stats
