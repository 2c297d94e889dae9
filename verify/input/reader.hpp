// What the per-format readers share: the open input with its per-file state, the skip accounting of bad data, and
// the reader entry points (text_reader.cpp, line_reader.cpp, jsonl_reader.cpp, ids_reader.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "input/byte_source.hpp"
#include "input/document_source.hpp"
#include "input/field_selector.hpp"

namespace telltale::input::detail {

constexpr size_t kMinDocumentBytes = 4;  // room for any one UTF-8 character, so a cut always makes progress

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool all_space(std::string_view s);
// "0xNN", for messages about one byte of a non-key input.
std::string hex_byte(unsigned char b);
// Where a document longer than `max` (data.size() > max) is cut: just after the last whitespace byte in the first
// `max` bytes, else at the last UTF-8 character boundary there, so a valid character is never split.
size_t cut_point(std::string_view data, size_t max);

// What one step of a reader produced: a document, nothing yet (a skipped bad document), or the end of the file.
enum class Outcome { kDocument, kRetry, kEndOfFile };

struct ReaderState {
  InputOptions options;
  std::optional<FieldSelector> selector;

  ByteSource in;  // the open input
  InputFormat format = InputFormat::kText;
  bool at_start = true;        // the byte order mark check is still to do
  uint64_t content_start = 0;  // file offset after the byte order mark
  uint64_t doc_index = 0;      // documents of this file so far, bad ones included
  // A JSONL text longer than max_document_bytes, handed out piece by piece.
  std::string pending;
  size_t pending_pos = 0;
  uint64_t pending_line = 0;
  bool pending_active = false;

  uint64_t documents = 0;
  uint64_t skipped = 0;
  std::vector<std::string> skipped_messages;
  std::optional<Status> sticky;

  // Under skip_bad, counts `s` and returns ok; otherwise makes it the stream's final error and returns it.
  Status record_bad(Status s);
  // A bad document: skipped (kRetry) or the final error.
  Result<Outcome> bad_document(Status s);
  // A file that cannot be read further: the rest of it is skipped, or this is the final error.
  Result<Outcome> bad_file(Status s);

  std::string where(uint64_t at_line) const { return in.name() + ":" + std::to_string(at_line); }
  void start_input(std::unique_ptr<ByteInput> input, std::string name, InputFormat input_format);
  void close_input();
  void emit_text(Document& out, std::string_view text, uint64_t at_line, uint64_t index) const;
};

// The next step in the open input, by its format (after dropping a UTF-8 byte order mark at its start).
Result<Outcome> next_in_file(ReaderState& s, Document& out);

Result<Outcome> next_text(ReaderState& s, Document& out);
Result<Outcome> next_jsonl(ReaderState& s, Document& out);
Result<Outcome> next_ids(ReaderState& s, Document& out);
// One non-blank line of a JSONL or .ids input, still in the buffer.
struct RecordLine {
  std::string_view text;  // the line without "\n" or "\r\n"
  size_t consumed = 0;    // the bytes the caller must consume once done with `text` (terminator included)
  uint64_t line = 0;      // its line number
  uint64_t index = 0;     // its document index in the file (taken by this call)
};
// Reads one line for the JSONL and .ids readers; kDocument means `out` holds one.
Result<Outcome> next_record_line(ReaderState& s, RecordLine& out);

}  // namespace telltale::input::detail
