// The plain text reader: cuts a text input into documents per file, paragraph or line (TextSplit), at most
// max_document_bytes each, and checks each is valid UTF-8.
#include <algorithm>

#include "input/reader.hpp"
#include "input/utf8.hpp"

namespace telltale::input::detail {
namespace {

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// An empty or whitespace-only file holds no document, as an empty JSONL or .ids file does; a run that reads no
// document at all is refused by DocumentSource (InputOptions::allow_empty).
Result<Outcome> end_of_text(ReaderState&) { return Outcome::kEndOfFile; }

}  // namespace

bool all_space(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_space(c); });
}

std::string hex_byte(unsigned char b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 0xF];
}

size_t cut_point(std::string_view data, size_t max) {
  for (size_t i = max; i > 0; --i) {
    if (is_space(data[i - 1])) return i;
  }
  const size_t cut = max - utf8_incomplete_tail(data.substr(0, max));
  return cut > 0 ? cut : max;
}

Result<Outcome> next_text(ReaderState& s, Document& out) {
  ByteSource& in = s.in;
  const size_t max = s.options.max_document_bytes;
  const TextSplit split = s.options.split;
  if (split != TextSplit::kFile) {
    // Separators (blank lines) and a document's leading whitespace are dropped, a buffer at a time.
    while (true) {
      if (Status f = in.fill(1); !f.is_ok()) return s.bad_file(std::move(f));
      const std::string_view data = in.view();
      if (data.empty()) return end_of_text(s);
      size_t k = 0;
      while (k < data.size() && is_space(data[k])) ++k;
      in.consume(k);
      if (k < data.size()) break;
    }
  }
  if (Status f = in.fill(max + 1); !f.is_ok()) return s.bad_file(std::move(f));
  const std::string_view data = in.view();
  if (data.empty()) return end_of_text(s);

  const bool rest_fits = in.eof() && data.size() <= max;
  bool found = false;
  size_t doc_end = 0;
  size_t next = 0;
  if (split == TextSplit::kLine) {
    const size_t nl = data.substr(0, std::min(data.size(), max + 1)).find('\n');
    if (nl != std::string_view::npos) {
      found = true;
      doc_end = nl;
      next = nl + 1;
    }
  } else if (split == TextSplit::kParagraph) {
    // A paragraph ends at a newline followed by a blank line (or by only whitespace up to the end of input).
    size_t search = 0;
    while (!found) {
      const size_t nl = data.find('\n', search);
      if (nl == std::string_view::npos || nl > max) break;
      size_t q = nl + 1;
      while (q < data.size() && data[q] != '\n' && is_space(data[q])) ++q;
      if ((q < data.size() && data[q] == '\n') || (q == data.size() && in.eof())) {
        found = true;
        doc_end = nl;
        next = nl + 1;
      } else if (q == data.size()) {
        break;  // undecided; the document is cut below, which ends it at the same place
      }
      search = q;
    }
  }
  if (!found) {
    if (rest_fits) {
      doc_end = next = data.size();
    } else {
      doc_end = next = cut_point(data, max);
    }
  }
  std::string_view doc = data.substr(0, doc_end);
  if (split != TextSplit::kFile) doc = trim_right(doc);
  if (all_space(doc)) {  // only kFile gets here: a whitespace-only piece of a larger file
    in.consume(next);
    return Outcome::kRetry;
  }
  const bool whole_file =
      split == TextSplit::kFile && in.offset() == s.content_start && in.eof() && next == data.size();
  const uint64_t at_line = in.line();
  const uint64_t index = s.doc_index++;
  if (const auto bad_at = validate_utf8(doc)) {
    Status bad = invalid_argument(s.where(at_line + count_newlines(doc.substr(0, *bad_at))) + ": invalid UTF-8 (byte " +
                                  hex_byte(static_cast<unsigned char>(doc[*bad_at])) + " at file offset " +
                                  std::to_string(in.offset() + *bad_at) + ")");
    in.consume(next);
    return s.bad_document(std::move(bad));
  }
  s.emit_text(out, doc, whole_file ? 0 : at_line, index);
  in.consume(next);
  return Outcome::kDocument;
}

}  // namespace telltale::input::detail
