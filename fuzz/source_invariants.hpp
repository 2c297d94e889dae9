// Shared by the DocumentSource fuzz targets: options drawn from the first input bytes, and the invariants every
// document must satisfy whatever the bytes were.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "input/document_source.hpp"
#include "input/utf8.hpp"

namespace fuzz {

// Takes up to three configuration bytes off the front of the input: small limits so cutting and over-long lines
// are reached by short inputs.
inline telltale::input::InputOptions options_from(std::string_view& input) {
  telltale::input::InputOptions o;
  const auto byte = [&](size_t i) { return i < input.size() ? static_cast<uint8_t>(input[i]) : uint8_t{0}; };
  o.skip_bad = (byte(0) & 1) != 0;
  o.split = static_cast<telltale::input::TextSplit>((byte(0) >> 1) % 3);
  o.max_document_bytes = 4 + byte(1) % 61;
  o.max_line_bytes = byte(2) == 0 ? telltale::input::kDefaultMaxLineBytes : 4 + size_t{byte(2)} * 2;
  o.vocab_size = (byte(0) & 8) != 0 ? 1000 : 0;
  o.allow_empty = (byte(0) & 16) != 0;
  input.remove_prefix(std::min<size_t>(3, input.size()));
  return o;
}

inline bool one_line(const std::string& s) { return s.find('\n') == std::string::npos; }

inline void check_document(const telltale::input::Document& doc, const telltale::input::InputOptions& o) {
  if (doc.pretokenized) {
    FUZZ_CHECK(doc.text.empty());
    FUZZ_CHECK(doc.line >= 1);
    for (int32_t id : doc.ids) {
      FUZZ_CHECK(id >= 0);
      if (o.vocab_size > 0) FUZZ_CHECK(id < o.vocab_size);
    }
    return;
  }
  FUZZ_CHECK(doc.ids.empty());
  FUZZ_CHECK(!doc.text.empty());
  FUZZ_CHECK(doc.text.size() <= o.max_document_bytes);
  FUZZ_CHECK(!telltale::input::validate_utf8(doc.text).has_value());
  bool has_non_space = false;
  for (char c : doc.text) has_non_space = has_non_space || !(c == ' ' || (c >= '\t' && c <= '\r'));
  FUZZ_CHECK(has_non_space);
}

// Drains `source`, checking every document; returns the number of documents. Errors must be one line, and an
// error must repeat on the next call. Under skip_bad the only errors are running out of memory and, when nothing
// was read and allow_empty is off, "no documents read".
inline size_t drain_checked(telltale::input::DocumentSource& source, const telltale::input::InputOptions& o,
                            std::string* concatenated = nullptr) {
  telltale::input::Document doc;
  size_t count = 0;
  while (true) {
    auto more = source.next(doc);
    if (!more) {
      const bool nothing_read =
          count == 0 && !o.allow_empty && more.status().message().starts_with("no documents read");
      FUZZ_CHECK(!o.skip_bad || more.status().code() == telltale::StatusCode::kNoMemory || nothing_read);
      FUZZ_CHECK(one_line(more.status().message()));
      auto again = source.next(doc);
      FUZZ_CHECK(!again && again.status().message() == more.status().message());
      return count;
    }
    if (!*more) break;
    check_document(doc, o);
    if (concatenated) *concatenated += doc.text;
    ++count;
  }
  for (const std::string& m : source.skipped_messages()) FUZZ_CHECK(one_line(m));
  FUZZ_CHECK(source.skipped_messages().size() <= telltale::input::kMaxSkippedMessages);
  FUZZ_CHECK(source.skipped_messages().size() ==
             std::min<uint64_t>(source.skipped_count(), telltale::input::kMaxSkippedMessages));
  FUZZ_CHECK(source.documents_read() == count);
  return count;
}

}  // namespace fuzz
