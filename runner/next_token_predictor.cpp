// Top-k next-token predictions of the reference model, with exact log-softmax in double.
#include "next_token_predictor.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "generator.hpp"

namespace telltale::refmodel {

Result<TopPredictions> predict_next_tokens(Llama2cModel& model, std::span<const int32_t> ids, uint32_t top_k) {
  const int vocab = model.vocab_size();
  if (top_k < 1 || top_k > static_cast<uint32_t>(vocab))
    return invalid_argument("top_k must be in [1, " + std::to_string(vocab) + "]");
  if (ids.size() + 1 > static_cast<size_t>(model.seq_len()))
    return invalid_argument(std::to_string(ids.size()) + " ids exceed the model's context of " +
                            std::to_string(model.seq_len() - 1) + " after BOS (split the text into chunks)");
  for (const int32_t id : ids)
    if (id < 0 || id >= vocab) return invalid_argument("id " + std::to_string(id) + " is outside the vocabulary");
  TopPredictions out;
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  model.reset();
  int pos = 0;
  (void)model.forward(kLlama2cBos, pos++);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::span<const float> logits = model.forward(ids[i], pos++);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(), [&logits](int32_t a, int32_t b) {
      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
    });
    const float max = logits[order[0]];
    double sum = 0;
    for (const float l : logits) sum += std::exp(static_cast<double>(l) - max);
    const double log_z = max + std::log(sum);
    out.ids.emplace_back(order.begin(), order.begin() + top_k);
    auto& lp = out.logprobs.emplace_back();
    for (uint32_t r = 0; r < top_k; ++r)
      lp.push_back(static_cast<float>(std::min(0.0, static_cast<double>(logits[order[r]]) - log_z)));
  }
  return out;
}

}  // namespace telltale::refmodel
