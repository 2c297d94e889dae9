// The line reader under the JSONL and .ids formats: finds the next non-blank line, reading as needed, and refuses
// (or under skip_bad drops, without buffering it) a line longer than max_line_bytes.
#include <cstring>

#include "input/reader.hpp"

namespace telltale::input::detail {
namespace {

enum class LineState { kLine, kTooLong, kEnd };

// Finds the next line in the buffer, reading as needed: [0, length) of the view, without its '\n';
// `consumed` is length plus the terminator if there is one.
Result<LineState> read_line(ReaderState& s, size_t& length, size_t& consumed) {
  size_t scanned = 0;
  while (true) {
    const std::string_view data = s.in.view();
    const void* nl = std::memchr(data.data() + scanned, '\n', data.size() - scanned);
    if (nl != nullptr) {
      length = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
      consumed = length + 1;
      return length > s.options.max_line_bytes ? LineState::kTooLong : LineState::kLine;
    }
    scanned = data.size();
    if (scanned > s.options.max_line_bytes) return LineState::kTooLong;
    if (s.in.eof()) {
      if (scanned == 0) return LineState::kEnd;
      length = consumed = scanned;
      return LineState::kLine;
    }
    TT_RETURN_IF_ERROR(s.in.fill(scanned + 1));
  }
}

// Reports a line over max_line_bytes, and under skip_bad drops it without buffering it.
Result<Outcome> too_long_line(ReaderState& s) {
  Status bad = invalid_argument(s.where(s.in.line()) + ": line longer than the limit of " +
                                std::to_string(s.options.max_line_bytes) + " bytes");
  ++s.doc_index;
  if (!s.options.skip_bad) return s.bad_document(std::move(bad));
  while (true) {
    const std::string_view data = s.in.view();
    const void* nl = std::memchr(data.data(), '\n', data.size());
    if (nl != nullptr) {
      s.in.consume(static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1);
      break;
    }
    s.in.consume(data.size());
    if (s.in.eof()) break;
    if (Status f = s.in.fill(1); !f.is_ok()) {
      TT_RETURN_IF_ERROR(s.record_bad(std::move(bad)));
      return s.bad_file(std::move(f));
    }
  }
  return s.bad_document(std::move(bad));
}

}  // namespace

Result<Outcome> next_record_line(ReaderState& s, RecordLine& out) {
  while (true) {
    size_t length = 0;
    auto state = read_line(s, length, out.consumed);
    if (!state) return s.bad_file(state.status());
    if (*state == LineState::kEnd) return Outcome::kEndOfFile;
    if (*state == LineState::kTooLong) return too_long_line(s);
    std::string_view text = s.in.view().substr(0, length);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (!all_space(text)) {
      out.text = text;
      out.line = s.in.line();
      out.index = s.doc_index++;
      return Outcome::kDocument;
    }
    s.in.consume(out.consumed);  // blank lines separate nothing and are not documents
  }
}

}  // namespace telltale::input::detail
