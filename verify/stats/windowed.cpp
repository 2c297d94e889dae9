// Windowed search over scored positions (binomial and gamma nulls), Bonferroni over windows tried.
#include "stats/windowed.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/multiple_testing.hpp"
#include "stats/tails.hpp"

namespace telltale::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool valid_options(const WindowSearchOptions& o) { return o.min_length >= 1 && o.length_ratio >= 1.0; }

WindowMatch invalid_match() {
  WindowMatch m;
  m.log_p = kNaN;
  m.log_p_corrected = kNaN;
  return m;
}

// Shared driver: `best_sum(L, &start, &sum)` finds the largest window sum of length L and
// `log_tail(L, sum)` gives that window's exact ln p.
template <class BestSum, class LogTail>
WindowMatch search(uint64_t n, const WindowSearchOptions& options, BestSum best_sum, LogTail log_tail) {
  WindowMatch best;
  const std::vector<uint64_t> lengths = window_lengths(n, options);
  if (lengths.empty()) return best;  // nothing tried: ln p = 0 (no evidence)
  double tried = 0.0;
  bool have = false;
  for (uint64_t len : lengths) {
    uint64_t start = 0;
    double sum = 0.0;
    best_sum(len, &start, &sum);
    const double lp = log_tail(len, sum);
    tried += static_cast<double>(n - len + 1);
    if (std::isnan(lp)) return invalid_match();
    if (!have || lp < best.log_p) {
      best.start = start;
      best.length = len;
      best.statistic = sum;
      best.log_p = lp;
      have = true;
    }
  }
  best.lengths_tried = lengths.size();
  best.windows_tried = static_cast<uint64_t>(tried);
  // Bonferroni over every (start, length) window evaluated (see windowed.hpp for validity).
  best.log_p_corrected = std::min(0.0, best.log_p + std::log(tried));
  return best;
}

}  // namespace

std::vector<uint64_t> window_lengths(uint64_t n, const WindowSearchOptions& options) {
  std::vector<uint64_t> out;
  if (!valid_options(options)) return out;
  const uint64_t max_len = options.max_length == 0 ? n : std::min(n, options.max_length);
  if (max_len < options.min_length) return out;
  uint64_t len = options.min_length;
  while (len <= max_len) {
    out.push_back(len);
    const double next = std::ceil(static_cast<double>(len) * options.length_ratio);
    const uint64_t step = next >= static_cast<double>(max_len) ? max_len + 1 : static_cast<uint64_t>(next);
    len = std::max(len + 1, step);
  }
  if (out.back() != max_len) out.push_back(max_len);
  return out;
}

WindowMatch find_best_binomial_window(std::span<const uint8_t> hits, double gamma, const WindowSearchOptions& options) {
  if (!(gamma >= 0.0 && gamma <= 1.0) || !valid_options(options)) return invalid_match();
  std::vector<uint64_t> prefix(hits.size() + 1, 0);
  for (size_t i = 0; i < hits.size(); ++i) {
    if (hits[i] > 1) return invalid_match();
    prefix[i + 1] = prefix[i] + hits[i];
  }
  const uint64_t n = hits.size();
  auto best_sum = [&](uint64_t len, uint64_t* start, double* sum) {
    uint64_t best = 0, at = 0;
    for (uint64_t i = 0; i + len <= n; ++i) {
      const uint64_t k = prefix[i + len] - prefix[i];
      if (k > best || i == 0) {
        best = k;
        at = i;
      }
    }
    *start = at;
    *sum = static_cast<double>(best);
  };
  auto log_tail = [&](uint64_t len, double sum) { return log_binomial_sf(static_cast<uint64_t>(sum), len, gamma); };
  return search(n, options, best_sum, log_tail);
}

WindowMatch find_best_gamma_window(std::span<const double> scores, const WindowSearchOptions& options) {
  if (!valid_options(options)) return invalid_match();
  // Double-double prefix sums (TwoSum): a window sum is then exact to ~1 ulp even when the
  // prefix is much larger than the window, which a plain running sum would not guarantee.
  const size_t n = scores.size();
  std::vector<double> hi(n + 1, 0.0), lo(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double x = scores[i];
    if (!(x >= 0.0) || !std::isfinite(x)) return invalid_match();
    const double s = hi[i] + x;
    const double bb = s - hi[i];
    const double err = (hi[i] - (s - bb)) + (x - bb);
    hi[i + 1] = s;
    lo[i + 1] = lo[i] + err;
  }
  auto window_sum = [&](uint64_t i, uint64_t len) { return (hi[i + len] - hi[i]) + (lo[i + len] - lo[i]); };
  auto best_sum = [&](uint64_t len, uint64_t* start, double* sum) {
    double best = -1.0;
    uint64_t at = 0;
    for (uint64_t i = 0; i + len <= n; ++i) {
      const double s = window_sum(i, len);
      if (s > best) {
        best = s;
        at = i;
      }
    }
    *start = at;
    *sum = best;
  };
  auto log_tail = [&](uint64_t len, double sum) { return log_gamma_sf(sum, static_cast<double>(len)); };
  return search(n, options, best_sum, log_tail);
}

}  // namespace telltale::stats
