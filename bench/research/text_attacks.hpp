// The edits an adversary (or an ordinary user) makes to watermarked text before it reaches the verifier: random
// token substitution, insertion and deletion; word substitution with words of human text; whitespace and case
// changes that make the text tokenize differently. Each is seeded, so a bench run is reproducible.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace telltale::research {

using Rng = std::mt19937_64;

// Each id is replaced, with probability `rate`, by an id drawn uniformly from `pool`.
std::vector<int32_t> substitute_tokens(const std::vector<int32_t>& ids, double rate, const std::vector<int32_t>& pool,
                                       Rng& rng);
// After each id, with probability `rate`, an id drawn uniformly from `pool` is inserted.
std::vector<int32_t> insert_tokens(const std::vector<int32_t>& ids, double rate, const std::vector<int32_t>& pool,
                                   Rng& rng);
// Each id is dropped with probability `rate`.
std::vector<int32_t> delete_tokens(const std::vector<int32_t>& ids, double rate, Rng& rng);

// Splits text at spaces and newlines into words (the separators are kept apart).
std::vector<std::string> split_words(std::string_view text);
// Each word (maximal run without space or newline) is replaced, with probability `rate`, by a word drawn uniformly
// from `words` (human text: a random word of the right register but not a synonym; no thesaurus ships here).
std::string substitute_words(std::string_view text, double rate, const std::vector<std::string>& words, Rng& rng);

// Re-tokenization attacks: the same words, spelled so that the tokenizer splits them differently.
std::string double_spaces(std::string_view text);        // every space becomes two
std::string newlines_for_spaces(std::string_view text);  // every space becomes a newline
std::string lowercase(std::string_view text);
std::string uppercase(std::string_view text);
std::string capitalize_words(std::string_view text);  // the first letter of every word upper case

// Sentences of `text`: each ends after '.', '!' or '?' (and any closing quotes) followed by whitespace or the end;
// the whitespace after it belongs to the next sentence. Concatenating the pieces gives `text` back.
std::vector<std::string> split_sentences(std::string_view text);

}  // namespace telltale::research
