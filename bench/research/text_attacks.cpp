#include "text_attacks.hpp"

#include <cctype>

namespace telltale::research {
namespace {

bool draw(double rate, Rng& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rate; }

template <typename T>
const T& pick(const std::vector<T>& pool, Rng& rng) {
  return pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
}

bool is_separator(char c) { return c == ' ' || c == '\n'; }

std::string map_chars(std::string_view text, int (*f)(int)) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(f(static_cast<unsigned char>(c)));
  return out;
}

std::string replace_spaces(std::string_view text, std::string_view with) {
  std::string out;
  for (char c : text) {
    if (c == ' ') {
      out += with;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::vector<int32_t> substitute_tokens(const std::vector<int32_t>& ids, double rate, const std::vector<int32_t>& pool,
                                       Rng& rng) {
  std::vector<int32_t> out = ids;
  for (int32_t& id : out)
    if (draw(rate, rng)) id = pick(pool, rng);
  return out;
}

std::vector<int32_t> insert_tokens(const std::vector<int32_t>& ids, double rate, const std::vector<int32_t>& pool,
                                   Rng& rng) {
  std::vector<int32_t> out;
  for (int32_t id : ids) {
    out.push_back(id);
    if (draw(rate, rng)) out.push_back(pick(pool, rng));
  }
  return out;
}

std::vector<int32_t> delete_tokens(const std::vector<int32_t>& ids, double rate, Rng& rng) {
  std::vector<int32_t> out;
  for (int32_t id : ids)
    if (!draw(rate, rng)) out.push_back(id);
  return out;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    const bool sep = is_separator(text[i]);
    while (j < text.size() && is_separator(text[j]) == sep) ++j;
    out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string substitute_words(std::string_view text, double rate, const std::vector<std::string>& words, Rng& rng) {
  std::string out;
  for (const std::string& piece : split_words(text)) {
    const bool word = !is_separator(piece[0]);
    out += word && draw(rate, rng) ? pick(words, rng) : piece;
  }
  return out;
}

std::string double_spaces(std::string_view text) { return replace_spaces(text, "  "); }
std::string newlines_for_spaces(std::string_view text) { return replace_spaces(text, "\n"); }
std::string lowercase(std::string_view text) {
  return map_chars(text, [](int c) { return std::tolower(c); });
}
std::string uppercase(std::string_view text) {
  return map_chars(text, [](int c) { return std::toupper(c); });
}

std::string capitalize_words(std::string_view text) {
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i)
    if (i == 0 || is_separator(out[i - 1]))
      out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
  return out;
}

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i++];
    if (c != '.' && c != '!' && c != '?') continue;
    while (i < text.size() && (text[i] == '"' || text[i] == '\'')) ++i;
    if (i == text.size() || std::isspace(static_cast<unsigned char>(text[i]))) {
      out.emplace_back(text.substr(start, i - start));
      start = i;
    }
  }
  if (start < text.size()) out.emplace_back(text.substr(start));
  return out;
}

}  // namespace telltale::research
