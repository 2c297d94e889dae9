// How many ids survive a round trip through text (decode, then encode): the length of the longest common subsequence
// of the ids before and after. The verifier's tests and the tokenizer bench measure re-tokenization loss with it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace telltale::input {

inline size_t ids_kept(const std::vector<int32_t>& before, const std::vector<int32_t>& after) {
  std::vector<size_t> row(after.size() + 1, 0), prev(after.size() + 1, 0);
  for (size_t i = 1; i <= before.size(); ++i) {
    for (size_t j = 1; j <= after.size(); ++j)
      row[j] = before[i - 1] == after[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], row[j - 1]);
    std::swap(row, prev);
  }
  return prev[after.size()];
}

}  // namespace telltale::input
