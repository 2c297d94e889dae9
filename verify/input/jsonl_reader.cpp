// The JSONL reader: one JSON record per line, the document being the record itself (a JSON string) or the field
// the selector names; a text longer than max_document_bytes is handed out in pieces.
#include <nlohmann/json.hpp>

#include "input/reader.hpp"
#include "input/utf8.hpp"

namespace telltale::input::detail {
namespace {

Result<Outcome> next_pending(ReaderState& s, Document& out) {
  const std::string_view rest = std::string_view(s.pending).substr(s.pending_pos);
  const size_t max = s.options.max_document_bytes;
  const size_t n = rest.size() <= max ? rest.size() : cut_point(rest, max);
  const std::string_view piece = rest.substr(0, n);
  s.pending_pos += n;
  if (s.pending_pos >= s.pending.size()) s.pending_active = false;
  if (all_space(piece)) return Outcome::kRetry;
  s.emit_text(out, piece, s.pending_line, s.doc_index++);
  return Outcome::kDocument;
}

}  // namespace

Result<Outcome> next_jsonl(ReaderState& s, Document& out) {
  if (s.pending_active) return next_pending(s, out);
  RecordLine rec;
  auto got = next_record_line(s, rec);
  if (!got || *got != Outcome::kDocument) return got;
  const std::string_view text = rec.text;
  const size_t consumed = rec.consumed;
  const uint64_t at_line = rec.line;
  const uint64_t index = rec.index;
  if (const auto bad_at = validate_utf8(text)) {
    Status bad = invalid_argument(s.where(at_line) + ": invalid UTF-8 (byte " +
                                  hex_byte(static_cast<unsigned char>(text[*bad_at])) + " at column " +
                                  std::to_string(*bad_at + 1) + ")");
    s.in.consume(consumed);
    return s.bad_document(std::move(bad));
  }
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is the useful part.
    std::string_view what = e.what();
    if (const size_t close = what.find("] "); close != std::string_view::npos) what.remove_prefix(close + 2);
    Status bad = invalid_argument(s.where(at_line) + ": not valid JSON: " + printable(what, 200));
    s.in.consume(consumed);
    return s.bad_document(std::move(bad));
  }
  s.in.consume(consumed);
  std::string_view selected;
  if (s.selector) {
    auto field = s.selector->select(record);
    if (!field) return s.bad_document(invalid_argument(s.where(at_line) + ": " + field.status().message()));
    selected = *field;
  } else if (!record.is_string()) {
    return s.bad_document(invalid_argument(
        s.where(at_line) + ": the record is " + (record.is_object() ? "an object" : "not a string") +
        "; with no field selector each record must be a JSON string (name the text with e.g. --field text)"));
  } else {
    selected = record.get_ref<const std::string&>();
  }
  const std::string what = s.selector ? "field '" + printable(s.selector->text(), 200) + "'" : "the record";
  if (const auto bad_at = validate_utf8(selected)) {  // defence in depth: the JSON parser checks this too
    return s.bad_document(invalid_argument(s.where(at_line) + ": " + what + " is not valid UTF-8 (at byte " +
                                           std::to_string(*bad_at) + ")"));
  }
  if (all_space(selected)) {
    return s.bad_document(
        invalid_argument(s.where(at_line) + ": empty document (" + what + " is empty or only whitespace)"));
  }
  if (selected.size() <= s.options.max_document_bytes) {
    s.emit_text(out, selected, at_line, index);
    return Outcome::kDocument;
  }
  s.pending.assign(selected.data(), selected.size());
  s.pending_pos = 0;
  s.pending_line = at_line;
  s.pending_active = true;
  --s.doc_index;  // the pieces take their own indexes
  return next_pending(s, out);
}

}  // namespace telltale::input::detail
