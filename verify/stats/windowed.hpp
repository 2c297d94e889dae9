// Windowed search for a watermarked passage inside a long document, with a valid correction.
//
// A watermarked passage pasted into human text dilutes the whole-document score; scanning windows
// recovers it, but the minimum over many windows is not a p-value. We report both the raw exact
// p-value of the best window and that p-value corrected by Bonferroni over every window tried:
// ln min(1, M p) with M = number of (start, length) windows evaluated. Bonferroni is the union
// bound P(min_i p_i <= a/M) <= sum_i P(p_i <= a/M) <= a, which needs only that each window's p is a
// valid p-value under H0 -- it holds however strongly overlapping windows are dependent (they are
// strongly positively dependent, so the correction is conservative; the research notes' WinMax row
// in b.9 reports anchors returning the uncorrected minimum, which is invalid).
//
// Cost: for each window length L in the grid, the best window of that length is the one with the
// largest sum (the exact tail is monotone in the sum at fixed L), found in O(N) from prefix sums;
// then one exact tail evaluation. Total O(N * |grid|) time, O(N) memory. The grid is every length
// in [min_length, max_length] when length_ratio == 1 (O(N^2) over the whole document), or the
// geometric grid L_{i+1} = max(L_i + 1, ceil(L_i * length_ratio)) plus max_length itself, which has
// about ln(max/min) / ln(ratio) lengths (~190 for N = 1e5, min 16, ratio 1.05). A planted passage
// of length P is then covered by a window of length within a factor `ratio` of P.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace telltale::stats {

struct WindowSearchOptions {
  uint64_t min_length = 16;    // shortest window (>= 1); short windows cost correction, not power
  uint64_t max_length = 0;     // longest window; 0 means the whole sequence
  double length_ratio = 1.05;  // 1.0: every length (O(N^2)); > 1: geometric grid (see above)
};

struct WindowMatch {
  uint64_t start = 0;            // index of the first scored position in the best window
  uint64_t length = 0;           // 0 when no window was tried (sequence shorter than min_length)
  double statistic = 0.0;        // green count (binomial) or score sum (gamma) inside the window
  double log_p = 0.0;            // exact ln p of that window alone (uncorrected)
  double log_p_corrected = 0.0;  // ln min(1, windows_tried * p): the p-value to report
  uint64_t windows_tried = 0;    // M, the Bonferroni multiplier
  uint64_t lengths_tried = 0;    // |grid|
};

// The window lengths searched for a sequence of n scored positions (ascending, no duplicates).
// Empty when n < min_length; invalid options (min_length 0, ratio < 1 or NaN) also give empty.
std::vector<uint64_t> window_lengths(uint64_t n, const WindowSearchOptions& options);

// Binomial windows: hits[i] in {0, 1} is the de-duplicated KGW green indicator of scored position i,
// H0: iid Bernoulli(gamma). Each window's p is the exact ln P(Binomial(L, gamma) >= green count).
// Invalid input (gamma outside [0, 1], a hit value > 1, invalid options) gives log_p = NaN.
// Ties between windows keep the first found (shorter length first, then earlier start).
WindowMatch find_best_binomial_window(std::span<const uint8_t> hits, double gamma,
                                      const WindowSearchOptions& options = {});

// Gamma windows: scores[i] = -ln(1 - r_i) >= 0 (Gumbel/EXP per-token score), H0: iid Exp(1), so a
// window's sum is Gamma(L, 1) and its p is exact ln P(Gamma(L, 1) >= sum). Window sums come from
// compensated (double-double) prefix sums. Negative, NaN or infinite scores give log_p = NaN.
WindowMatch find_best_gamma_window(std::span<const double> scores, const WindowSearchOptions& options = {});

}  // namespace telltale::stats
