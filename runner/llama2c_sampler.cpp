// llama2.c's sampler (run.c), reproduced for the reference tests only: not telltale's hook.
// Each function keeps run.c's float operations in run.c's order, so its draws match run.c's.
#include "llama2c_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace telltale::refmodel {

std::uint32_t random_u32(std::uint64_t& state) {
  // xorshift*: https://en.wikipedia.org/wiki/Xorshift#xorshift*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<std::uint32_t>((state * 0x2545F4914F6CDD1DULL) >> 32);
}

float random_f32(std::uint64_t& state) {
  // 24 bits fit a float's significand exactly, so the conversion below is exact, as in run.c.
  return static_cast<float>(random_u32(state) >> 8) / 16777216.0f;
}

void softmax(std::span<float> x) {
  if (x.empty()) return;
  float max_val = x[0];
  for (std::size_t i = 1; i < x.size(); i++) {
    if (x[i] > max_val) max_val = x[i];
  }
  float sum = 0.0f;
  for (float& v : x) {
    v = std::exp(v - max_val);  // std::exp(float) is expf, as in run.c
    sum += v;
  }
  for (float& v : x) v /= sum;
}

int sample_argmax(std::span<const float> probabilities) {
  int max_i = 0;
  if (probabilities.empty()) return max_i;
  float max_p = probabilities[0];
  for (std::size_t i = 1; i < probabilities.size(); i++) {
    if (probabilities[i] > max_p) {
      max_i = static_cast<int>(i);
      max_p = probabilities[i];
    }
  }
  return max_i;
}

int sample_mult(std::span<const float> probabilities, float coin) {
  if (probabilities.empty()) return 0;
  float cdf = 0.0f;
  for (std::size_t i = 0; i < probabilities.size(); i++) {
    cdf += probabilities[i];
    if (coin < cdf) return static_cast<int>(i);
  }
  return static_cast<int>(probabilities.size()) - 1;  // rounding left the sum below the coin
}

int sample_topp(std::span<const float> probabilities, float topp, std::span<ProbIndex> scratch, float coin) {
  const std::size_t n = probabilities.size();
  if (n == 0 || scratch.size() < n) return -1;
  if (n == 1) return 0;  // run.c would divide by n - 1 == 0 below

  // Values below (1 - topp) / (n - 1) cannot be in the nucleus, so run.c drops them before sorting.
  const float cutoff = (1.0f - topp) / static_cast<float>(n - 1);
  std::size_t n0 = 0;
  for (std::size_t i = 0; i < n; i++) {
    if (probabilities[i] >= cutoff) {
      scratch[n0].index = static_cast<int>(i);
      scratch[n0].prob = probabilities[i];
      n0++;
    }
  }
  // run.c's cutoff can drop every candidate (say n = 2, topp = 0.1, two probabilities of 0.5), and
  // run.c then reads probindex[-1]. Taking the most likely token is the closest sane answer.
  if (n0 == 0) return sample_argmax(probabilities);

  // run.c calls qsort with a comparator that returns 0 on equal probabilities. glibc's qsort is a
  // stable merge sort (for buffers far smaller than memory), and candidates enter in ascending
  // index order, so equal probabilities keep ascending indices. Sorting with the index as the
  // tiebreak gives that order with std::sort, which, unlike std::stable_sort, never allocates.
  std::sort(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n0),
            [](const ProbIndex& a, const ProbIndex& b) {
              if (a.prob != b.prob) return a.prob > b.prob;
              return a.index < b.index;
            });

  float cumulative_prob = 0.0f;
  std::size_t last_idx = n0 - 1;  // rounding may keep the sum at or below topp: keep them all
  for (std::size_t i = 0; i < n0; i++) {
    cumulative_prob += scratch[i].prob;
    if (cumulative_prob > topp) {
      last_idx = i;
      break;
    }
  }

  // The coin is scaled to the kept mass instead of renormalising the kept probabilities.
  const float r = coin * cumulative_prob;
  float cdf = 0.0f;
  for (std::size_t i = 0; i <= last_idx; i++) {
    cdf += scratch[i].prob;
    if (r < cdf) return scratch[i].index;
  }
  return scratch[last_idx].index;
}

Llama2cSampler::Llama2cSampler(int vocab_size, float temperature, float topp, std::uint64_t rng_seed)
    : vocab_size_(std::max(vocab_size, 0)),
      temperature_(temperature),
      topp_(topp),
      rng_state_(rng_seed),
      probabilities_(static_cast<std::size_t>(vocab_size_)),
      probindex_(static_cast<std::size_t>(vocab_size_)) {}

int Llama2cSampler::sample(std::span<const float> logits) {
  if (vocab_size_ == 0 || logits.size() != probabilities_.size()) return -1;
  if (temperature_ == 0.0f) return sample_argmax(logits);

  // run.c divides (not multiplies by 1/t): the quotients round differently for most temperatures.
  for (std::size_t q = 0; q < logits.size(); q++) probabilities_[q] = logits[q] / temperature_;
  softmax(probabilities_);
  // One coin per token, drawn before the branch, whichever way the branch goes.
  const float coin = random_f32(rng_state_);
  if (topp_ <= 0.0f || topp_ >= 1.0f) return sample_mult(probabilities_, coin);
  return sample_topp(probabilities_, topp_, probindex_, coin);
}

}  // namespace telltale::refmodel
