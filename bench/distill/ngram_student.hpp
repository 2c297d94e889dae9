// An n-gram language model with interpolated Kneser-Ney smoothing (Chen & Goodman 1998, "An empirical study of
// smoothing techniques for language modeling", eq. 26, with per-order discounts D = n1 / (n1 + 2 n2)): the fast
// student of the distillation simulator.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::distill {

class NgramStudent {
 public:
  static constexpr uint32_t kMaxOrder = 5;     // n-grams of up to 5 ids (a context of 4)
  static constexpr uint32_t kMaxVocab = 4096;  // ids pack into 12 bits

  // Trains on `docs` (each read as BOS followed by the document's ids; `bos` must be < vocab).
  static Result<NgramStudent> train(std::span<const std::vector<int32_t>> docs, uint32_t order, uint32_t vocab,
                                    int32_t bos);

  uint32_t order() const { return order_; }
  uint32_t vocab() const { return vocab_; }

  // P(next id | history) for every id, where history is what precedes the id (BOS is prepended here, as in
  // training). `probs` gets vocab entries summing to 1.
  void distribution(std::span<const int32_t> history, std::vector<double>& probs) const;
  // The most likely next id (ties: the lower id).
  int32_t top1(std::span<const int32_t> history, std::vector<double>& scratch) const;
  // An id drawn from the distribution by the inverse CDF at `uniform` in [0, 1).
  int32_t sample(std::span<const int32_t> history, double uniform, std::vector<double>& scratch) const;

 private:
  struct Context {
    uint64_t total = 0;                              // sum of the counts of its continuations
    uint32_t distinct = 0;                           // N1+(context .)
    std::vector<std::pair<int32_t, uint32_t>> next;  // (id, count): raw at the highest order, continuation below
  };
  NgramStudent() = default;
  const Context* find(uint32_t k, std::span<const int32_t> context) const;

  uint32_t order_ = 0;
  uint32_t vocab_ = 0;
  int32_t bos_ = 0;
  std::vector<double> discount_;                                 // per order k (index k - 1)
  std::vector<std::unordered_map<uint64_t, Context>> contexts_;  // per order k: context of k - 1 ids
};

}  // namespace telltale::distill
