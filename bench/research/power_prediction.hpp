// The statistics behind the bench's self-checks: the detection threshold of the exact binomial test, and the exact
// distribution of a sum of independent Bernoullis with different probabilities (Poisson binomial), used to predict
// how many documents must be detected and how many unwatermarked ones may be, with a failure probability we choose.
#pragma once

#include <cstdint>
#include <span>

namespace telltale::research {

// The smallest count k with P(Binomial(n, p) >= k) <= alpha: the fewest favoured tokens among n that the exact test
// detects at level alpha (n + 1 when none does).
uint64_t critical_count(uint64_t n, double p, double alpha);

// P(X >= k) for X the number of successes among independent trials with success probabilities `p`.
double poisson_binomial_sf(std::span<const double> p, uint64_t k);

// The largest k with P(X < k) <= beta, X as above: X falls below it with probability at most beta.
uint64_t poisson_binomial_lower_bound(std::span<const double> p, double beta);

}  // namespace telltale::research
