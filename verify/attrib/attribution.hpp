// Attribution: which registry accounts produced a text. Each account's statistic is the number of scored contexts
// whose keyed bit equals its codeword bit; under the null "this text did not come from that account" (it came from
// another registered account, from several, or from no watermark) that count is stochastically at most
// Binomial(n, theta), theta = null_match_bound(account delta), so its binomial tail is a valid p-value, and Holm's
// step-down over the family bounds the chance of accusing any innocent account by alpha (spec/fingerprint.md 5).
#pragma once

#include <cstdint>
#include <vector>

#include "attrib/account_evidence.hpp"
#include "attrib/account_registry.hpp"
#include "attrib/weighted_match_null.hpp"

namespace telltale::attrib {

// theta = 1/2 + (sigmoid(delta) - 1/2) * 3/256: the largest chance that a scored context matches an innocent
// account's codeword bit. sigmoid(delta) bounds how often a step lands in the half its own account favoured;
// 3/256 bounds the correlation of two distinct codewords. delta: the account layer's bias in logits (>= 0).
double null_match_bound(double account_delta);

struct RankedAccount {
  uint32_t account = 0;
  uint64_t matches = 0;       // scored contexts agreeing with its codeword
  double log_p = 0;           // ln P(Binomial(n, theta) >= matches)
  double log_p_adjusted = 0;  // Holm over the family (ln, capped at 0)
  bool attributed = false;    // log_p_adjusted <= ln alpha
};

struct Attribution {
  uint64_t scored = 0;  // n: contexts scored (model-aware: their total weight in grid units)
  double theta = 0.5;
  uint64_t family = 0;  // hypotheses Holm corrected for
  // Best first (most matches; ties in registry order): the `top` best and every account with p <= alpha / registry
  // size (the only ones a correction over a family at least as large as the registry can accuse).
  std::vector<RankedAccount> ranked;
  size_t attributed = 0;  // leading entries of `ranked` with attributed = true
  bool weighted = false;  // model-aware: matches and scored are weighted sums, the null a weighted Bernoulli sum
  bool exact = true;      // every p-value of `ranked` is an exact tail (model-aware: else some are Chernoff bounds)
};

struct AttributionOptions {
  double alpha = 1e-3;
  size_t top = 3;
  bool weighted = false;  // model-aware: every document comes with its positions' weights (grid units)
};

// Ranks every account of `registry` on `evidence` and corrects over `family` hypotheses (0: the registry size). With
// `weighted`, the evidence holds weighted sums and the p-values are its tails (weighted_match_null.hpp).
Attribution attribute(const AccountEvidence& evidence, const AccountRegistry& registry, double theta,
                      const AttributionOptions& options, uint64_t family = 0,
                      const WeightedMatchNull* weighted = nullptr);

// Holm's step-down over a family of `family` hypotheses of which only `candidates` are given (ln p, any order):
// adjusted[i] for each candidate, rejecting a subset of what Holm over the whole family rejects (a hypothesis not
// given has a larger p than every candidate). The candidates must be at most `family`.
std::vector<double> holm_partial_log(const std::vector<double>& candidates, uint64_t family);

}  // namespace telltale::attrib
