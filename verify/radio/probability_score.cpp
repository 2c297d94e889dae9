// The probability score's null terms, per scheme: KGW one Bernoulli(gamma) term of weight p per tuple; the tournament
// m fair bits of weight p (mean) or p w_l (weighted mean); Gumbel one Exp(1) term of weight p.
#include "radio/probability_score.hpp"

#include <cmath>

#include "stats/tails.hpp"
#include "telltale/scheme.hpp"

namespace telltale::radio {

std::string ProbabilityEvidence::method_text() const {
  if (method == stats::TailMethod::kExactGrid)
    return "exact tail (weights rounded up to multiples of 1/" + std::to_string(grid) + ")";
  return "Chernoff bound from the exact moment generating function";
}

void ProbabilityTally::add(double probability, double score) {
  if (!(probability > 0)) return;  // no mass: no evidence either way
  const double p = std::min(probability, 1.0);
  ++tuples_;
  statistic_.add(p * score);
  mass_.add(p);
  switch (null_.kind) {
    case NullKind::kBernoulli:
    case NullKind::kExponential: terms_.push_back({p, 1}); break;
    case NullKind::kBinomial: terms_.push_back({p, null_.layers}); break;
    case NullKind::kWeightedBits:
      for (uint32_t l = 0; l < null_.layers; ++l) terms_.push_back({p * tournament_weight(l, null_.layers), 1});
      break;
  }
}

ProbabilityEvidence ProbabilityTally::evaluate() const {
  ProbabilityEvidence e;
  e.tuples = tuples_;
  e.mass = mass_.value();
  e.statistic = statistic_.value();
  double q = 0.5, squares = 0;
  for (const auto& t : terms_) {
    e.trials += t.weight * t.count;
    squares += t.weight * t.weight * t.count;
  }
  double mean = 1, variance = 1;  // of one term of weight 1: Exp(1), else Bernoulli(q)
  if (null_.kind == NullKind::kBernoulli) q = null_.p;
  if (null_.kind != NullKind::kExponential) {
    mean = q;
    variance = q * (1 - q);
  }
  e.expected = e.trials * mean;
  if (squares > 0) e.z = (e.statistic - e.expected) / std::sqrt(squares * variance);
  if (tuples_ == 0) return e;
  if (null_.kind == NullKind::kExponential) {
    e.log_p = stats::log_weighted_exponential_chernoff(terms_, e.statistic);
    return e;
  }
  const stats::TailBound b = stats::weighted_bernoulli_tail(terms_, q, e.statistic, kProbabilityExactBudget);
  e.log_p = b.log_p;
  e.method = b.method;
  e.grid = b.grid;
  return e;
}

}  // namespace telltale::radio
