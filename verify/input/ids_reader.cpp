// The .ids reader (spec/ids-format.md): one pre-tokenized document per non-blank line of decimal token ids.
#include "input/reader.hpp"
#include "input/utf8.hpp"

namespace telltale::input {
namespace {
constexpr int64_t kIdLimit = int64_t{1} << 31;
}  // namespace

Status parse_token_ids(std::string_view line, std::vector<int32_t>& out, int64_t vocab_size) {
  out.clear();
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && detail::is_space(line[i])) ++i;
    if (i >= n) break;
    const size_t start = i;
    while (i < n && !detail::is_space(line[i])) ++i;
    const std::string_view token = line.substr(start, i - start);
    // Built only on failure: this loop runs once per token of the corpus.
    const auto position = [&out] { return "token " + std::to_string(out.size() + 1); };
    int64_t value = 0;
    for (char c : token) {
      if (c < '0' || c > '9') {
        return invalid_argument(position() + " '" + printable(token, 32) + "' is not a decimal token id");
      }
      // Saturate instead of overflowing; anything at or past 2^31 is out of range anyway.
      if (value < kIdLimit) value = value * 10 + (c - '0');
    }
    if (value >= kIdLimit) {
      return invalid_argument(position() + " '" + printable(token, 32) + "' is out of range [0, 2^31)");
    }
    if (vocab_size > 0 && value >= vocab_size) {
      return invalid_argument(position() + " " + std::to_string(value) + " is out of range for a vocabulary of " +
                              std::to_string(vocab_size));
    }
    out.push_back(static_cast<int32_t>(value));
  }
  return Status::ok();
}

namespace detail {

Result<Outcome> next_ids(ReaderState& s, Document& out) {
  RecordLine rec;
  auto got = next_record_line(s, rec);
  if (!got || *got != Outcome::kDocument) return got;
  Status parsed = parse_token_ids(rec.text, out.ids, s.options.vocab_size);
  s.in.consume(rec.consumed);
  if (!parsed.is_ok()) return s.bad_document(invalid_argument(s.where(rec.line) + ": " + parsed.message()));
  out.source = s.in.name();
  out.line = rec.line;
  out.index = rec.index;
  out.text.clear();
  out.pretokenized = true;
  return Outcome::kDocument;
}

}  // namespace detail
}  // namespace telltale::input
