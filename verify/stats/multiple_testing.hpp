// Multiple-testing corrections on natural-log p-values (so 1e-5000 inputs never underflow).
//
// Every function here takes and returns ln p. An input is valid when it is in [-inf, 0]; a NaN or
// positive input makes the affected result NaN (for the set-wise Holm adjustment: every result),
// which is this module's error convention (see tails.hpp). All adjusted values are capped at 0
// (p = 1). Rules and references: spec/statistics.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace telltale::stats {

// Bonferroni: ln min(1, m p). Valid under any dependence between the m tests (union bound).
// m = 0 gives NaN.
double bonferroni_log(double log_p, uint64_t m) noexcept;

// Bonferroni applied to every element of a family of size log_p.size(), in input order.
std::vector<double> bonferroni_adjust_log(std::span<const double> log_p);

// Sidak: ln(1 - (1 - p)^m). Exact family-wise level for m *independent* tests; under dependence use
// Bonferroni (Sidak is then only valid for positively dependent tests, a condition we cannot check).
// Stable for tiny p (ln(m p) to first order) and for p near 1. m = 0 gives NaN.
double sidak_log(double log_p, uint64_t m) noexcept;

// Holm (1979) step-down adjusted p-values, returned in input order: sort ascending
// p_(1) <= ... <= p_(m), set adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)). The result is
// monotone in the input order statistics, >= the raw value, and <= the Bonferroni value. Rejecting
// every hypothesis with adj <= alpha controls the family-wise error at alpha under any dependence.
// Ties are ordered by input position (stable), which does not change the adjusted values.
std::vector<double> holm_adjust_log(std::span<const double> log_p);

// Fisher's (1925) combination statistic -2 sum ln p_i (chi-square with 2k degrees of freedom under
// H0 when the k p-values are independent and uniform). Returns +inf if any p is 0; NaN if empty or
// any input is invalid.
double fisher_statistic(std::span<const double> log_p) noexcept;

// ln of Fisher's combined p-value: P(chi2_{2k} >= -2 sum ln p_i) = P(Gamma(k, 1) >= -sum ln p_i),
// evaluated with log_gamma_sf (exact, log space). Requires independent p-values; for p-values that
// are super-uniform (discrete tests) the result is conservative. NaN if empty or any input invalid.
double fisher_combine_log(std::span<const double> log_p) noexcept;

}  // namespace telltale::stats
