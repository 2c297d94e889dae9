// The reference model as a suspect in reading mode: feeds a token sequence and reports, at every position, the
// model's most likely next ids with their log-probabilities (the in-tree adapter of spec/predictions-format.md).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "llama2c_model.hpp"
#include "telltale/status.hpp"

namespace telltale::refmodel {

struct TopPredictions {
  // Entry p - 1 is for position p in [1, ids.size()]: the ids most likely to follow ids[0 .. p-1], most likely
  // first (ties to the lower id), and their natural-log probabilities under the model's softmax (temperature 1).
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::vector<float>> logprobs;
};

// Runs the model over BOS + `ids` (at most seq_len - 1 ids: split longer texts into chunks). top_k in [1, vocab].
Result<TopPredictions> predict_next_tokens(Llama2cModel& model, std::span<const int32_t> ids, uint32_t top_k);

}  // namespace telltale::refmodel
