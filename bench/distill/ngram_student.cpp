// Interpolated Kneser-Ney: the highest order uses raw counts, every lower order the number of distinct left
// extensions ("continuation counts"); each order interpolates with the next lower one, the unigram with uniform.
#include "ngram_student.hpp"

#include <algorithm>
#include <string>

namespace telltale::distill {
namespace {

// An n-gram (up to 5 ids of 12 bits) and its length, packed exactly into 64 bits.
uint64_t pack(std::span<const int32_t> ids) {
  uint64_t key = 0;
  for (const int32_t id : ids) key = key << 12 | static_cast<uint32_t>(id);
  return key | uint64_t{ids.size()} << 60;
}

void unpack(uint64_t key, std::vector<int32_t>& ids) {
  const auto n = static_cast<size_t>(key >> 60);
  ids.resize(n);
  for (size_t i = 0; i < n; ++i) ids[n - 1 - i] = static_cast<int32_t>((key >> (12 * i)) & 0xfff);
}

}  // namespace

Result<NgramStudent> NgramStudent::train(std::span<const std::vector<int32_t>> docs, uint32_t order, uint32_t vocab,
                                         int32_t bos) {
  if (order < 1 || order > kMaxOrder) return invalid_argument("n-gram order must be in [1, 5]");
  if (vocab < 2 || vocab > kMaxVocab) return invalid_argument("vocabulary must be in [2, 4096]");
  if (bos < 0 || static_cast<uint32_t>(bos) >= vocab) return invalid_argument("BOS id outside the vocabulary");
  NgramStudent s;
  s.order_ = order;
  s.vocab_ = vocab;
  s.bos_ = bos;
  // counts[k - 1]: k-gram -> count (raw for k = order, continuation for k < order).
  std::vector<std::unordered_map<uint64_t, uint32_t>> counts(order);
  std::vector<int32_t> seq;
  for (const auto& doc : docs) {
    seq.assign(1, bos);
    for (const int32_t id : doc) {
      if (id < 0 || static_cast<uint32_t>(id) >= vocab) return invalid_argument("training id outside the vocabulary");
      seq.push_back(id);
    }
    for (size_t i = 1; i < seq.size(); ++i) {
      const size_t k = std::min<size_t>(order, i + 1);
      ++counts[k - 1][pack(std::span(seq).subspan(i + 1 - k, k))];
    }
  }
  // Lower orders: each distinct (k+1)-gram adds one to its k-suffix. N-grams cut short by the document start
  // (shorter than the order) keep their raw counts as well, so that the first ids of a document have statistics.
  std::vector<int32_t> ids;
  for (uint32_t k = order - 1; k >= 1; --k) {
    for (const auto& [key, c] : counts[k]) {
      unpack(key, ids);
      ++counts[k - 1][pack(std::span(ids).subspan(1))];
    }
  }
  s.discount_.assign(order, 0.75);
  s.contexts_.resize(order);
  for (uint32_t k = 1; k <= order; ++k) {
    uint64_t n1 = 0, n2 = 0;
    for (const auto& [key, c] : counts[k - 1]) {
      n1 += c == 1;
      n2 += c == 2;
      unpack(key, ids);
      const int32_t next = ids.back();
      ids.pop_back();
      Context& ctx = s.contexts_[k - 1][pack(ids)];
      ctx.total += c;
      ++ctx.distinct;
      ctx.next.emplace_back(next, c);
    }
    if (n1 > 0) s.discount_[k - 1] = static_cast<double>(n1) / static_cast<double>(n1 + 2 * n2);
    for (auto& [key, ctx] : s.contexts_[k - 1]) std::sort(ctx.next.begin(), ctx.next.end());
  }
  return s;
}

const NgramStudent::Context* NgramStudent::find(uint32_t k, std::span<const int32_t> context) const {
  const auto it = contexts_[k - 1].find(pack(context));
  return it == contexts_[k - 1].end() ? nullptr : &it->second;
}

void NgramStudent::distribution(std::span<const int32_t> history, std::vector<double>& probs) const {
  probs.assign(vocab_, 1.0 / static_cast<double>(vocab_));
  // The history as trained: BOS, then the ids; only the last order - 1 matter.
  int32_t buf[kMaxOrder];
  const size_t have = std::min<size_t>(history.size(), order_ - 1);
  size_t len = 0;
  if (history.size() < order_ - 1) buf[len++] = bos_;
  for (size_t i = history.size() - have; i < history.size(); ++i) buf[len++] = history[i];
  const std::span<const int32_t> full(buf, len);
  for (uint32_t k = 1; k <= order_ && k - 1 <= len; ++k) {
    const Context* ctx = find(k, full.subspan(len - (k - 1)));
    if (ctx == nullptr || ctx->total == 0) break;  // an unseen context: the lower order is the estimate
    const double d = discount_[k - 1];
    const double total = static_cast<double>(ctx->total);
    const double back = d * static_cast<double>(ctx->distinct) / total;
    for (double& p : probs) p *= back;
    for (const auto& [id, c] : ctx->next) probs[static_cast<size_t>(id)] += std::max(0.0, c - d) / total;
  }
}

int32_t NgramStudent::top1(std::span<const int32_t> history, std::vector<double>& scratch) const {
  distribution(history, scratch);
  return static_cast<int32_t>(std::max_element(scratch.begin(), scratch.end()) - scratch.begin());
}

int32_t NgramStudent::sample(std::span<const int32_t> history, double uniform, std::vector<double>& scratch) const {
  distribution(history, scratch);
  double cdf = 0;
  for (size_t i = 0; i < scratch.size(); ++i) {
    cdf += scratch[i];
    if (uniform < cdf) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(scratch.size() - 1);
}

}  // namespace telltale::distill
