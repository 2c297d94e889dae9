// llama2.c's own sampler (run.c: xorshift RNG, softmax, argmax, multinomial, top-p), reproduced
// operation for operation so the tests can prove the runner gives run.c's published outputs.
//
// This is NOT telltale's sampling hook and has no watermark in it: it exists only to replay the
// reference runs in ../shared/models/stories260K. Keep it byte-for-byte faithful to run.c; any
// "improvement" breaks the comparison with those files.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace telltale::refmodel {

// run.c's xorshift* step: updates `state` and returns the high 32 bits of state * 0x2545F4914F6CDD1D.
// A state of 0 stays 0 forever (run.c never seeds with 0: it swaps 0 for time(NULL)).
std::uint32_t random_u32(std::uint64_t& state);

// run.c's float in [0, 1): the top 24 bits of random_u32 divided by 2^24.
float random_f32(std::uint64_t& state);

// run.c's softmax, in place: subtract the max, expf, then divide by the float sum accumulated in
// index order. `x` may be empty (nothing happens). The forward pass's attention uses it too.
void softmax(std::span<float> x);

// Index of the first largest value (strict '>' as in run.c, so ties go to the lowest index).
// Returns 0 for an empty span.
int sample_argmax(std::span<const float> probabilities);

// Inverse-CDF draw: the first index whose running float sum exceeds `coin` (in [0, 1)); the last
// index when rounding leaves the sum below the coin. Returns 0 for an empty span.
int sample_mult(std::span<const float> probabilities, float coin);

// run.c's ProbIndex: one candidate of top-p sampling.
struct ProbIndex {
  float prob;
  int index;
};

// run.c's nucleus sampling. `topp` is a probability mass in (0, 1); `coin` in [0, 1); `scratch`
// needs probabilities.size() entries (it is run.c's probindex buffer). Candidates below
// (1 - topp) / (n - 1) are dropped before sorting, the rest are sorted by descending probability,
// the list is cut just after the running sum passes topp, and coin * (that sum) picks an entry.
// Returns -1 only if `scratch` is too small or `probabilities` is empty.
int sample_topp(std::span<const float> probabilities, float topp, std::span<ProbIndex> scratch, float coin);

// run.c's Sampler and sample(): temperature 0 is argmax over the raw logits; otherwise logits are
// divided by the temperature, softmaxed, one coin is drawn, and top-p is used when 0 < topp < 1,
// plain multinomial otherwise. Buffers are allocated once here; sample() does not allocate.
// run.c's main() also clamps its arguments (negative temperature -> 0, topp outside [0, 1] -> 0.9,
// seed <= 0 -> time(NULL)); those are the caller's business here, so a test stays deterministic.
class Llama2cSampler {
 public:
  // vocab_size > 0 tokens; temperature >= 0 (a divisor of the logits); topp a probability mass;
  // rng_seed the initial xorshift state (run.c's `-s`; must be nonzero to be random).
  Llama2cSampler(int vocab_size, float temperature, float topp, std::uint64_t rng_seed);

  // The next token for these logits (vocab_size of them; fewer or more gives -1).
  int sample(std::span<const float> logits);

  std::uint64_t rng_state() const { return rng_state_; }

 private:
  int vocab_size_;
  float temperature_;
  float topp_;
  std::uint64_t rng_state_;
  std::vector<float> probabilities_;  // run.c samples in its logits buffer; ours is read-only
  std::vector<ProbIndex> probindex_;
};

}  // namespace telltale::refmodel
