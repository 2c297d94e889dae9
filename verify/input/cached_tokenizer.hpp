// The exact piece cache: text cut where the tokenizer itself cannot merge across (TokenizerModel::piece_split), each
// piece's ids looked up in a per-thread map before the tokenizer is asked. Gives the uncached ids bit for bit.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "input/tokenizer_model.hpp"

namespace telltale::input {

// Calls `piece(begin, end)` for consecutive byte ranges that cover `text`, cut before each ASCII space that sits
// between two ASCII letters ("abc def" -> "abc", " def"). No range is empty.
template <typename Fn>
void for_each_piece(std::string_view text, Fn&& piece) {
  size_t begin = 0;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] != ' ') continue;
    const auto letter = [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; };
    if (letter(text[i - 1]) && letter(text[i + 1])) {
      piece(begin, i);
      begin = i;
    }
  }
  if (begin < text.size()) piece(begin, text.size());
}

// Whether an SPM-style piece holds the escaped space U+2581 right after a character other than U+2581 ("c▁d"): a
// vocabulary with such a piece could merge across the cut, so the cache stays off for it.
bool joins_word_to_space(std::string_view piece);

// Encodes `text` with `model` through the calling thread's piece cache, which belongs to the tokenizer numbered
// `owner` (a thread's cache is emptied when it serves another tokenizer, and when it grows past its bound). `model`
// must have piece_split() != kNone. Same contract and result as model.encode(text, out).
Status encode_with_piece_cache(const TokenizerModel& model, uint64_t owner, std::string_view text,
                               std::vector<int32_t>& out);

}  // namespace telltale::input
