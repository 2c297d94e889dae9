// UTF-8 validation (RFC 3629, table 3-7 of the Unicode standard), with an ASCII fast path for plain text.
#include "input/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace telltale::input {
namespace {

// Length of the sequence a lead byte starts, or 0 for a byte that can never start one
// (continuation bytes 0x80..0xBF, 0xC0/0xC1 which could only start overlongs, and 0xF5..0xFF).
size_t sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// The allowed range of the second byte depends on the lead byte: this is what excludes overlong
// three- and four-byte forms (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
bool second_byte_ok(uint8_t lead, uint8_t second) {
  switch (lead) {
    case 0xE0: return second >= 0xA0 && second <= 0xBF;
    case 0xED: return second >= 0x80 && second <= 0x9F;
    case 0xF0: return second >= 0x90 && second <= 0xBF;
    case 0xF4: return second >= 0x80 && second <= 0x8F;
    default: return second >= 0x80 && second <= 0xBF;
  }
}

bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

std::optional<size_t> validate_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Most corpus text is ASCII: test eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const uint8_t lead = p[i];
    const size_t len = sequence_length(lead);
    if (len == 0) return i;
    if (len == 1) {
      ++i;
      continue;
    }
    if (i + len > n) return i;
    if (!second_byte_ok(lead, p[i + 1])) return i;
    for (size_t k = 2; k < len; ++k) {
      if (!is_continuation(p[i + k])) return i;
    }
    i += len;
  }
  return std::nullopt;
}

size_t utf8_incomplete_tail(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  // Walk back over at most three continuation bytes to the lead byte that owns them.
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const uint8_t b = p[n - back];
    if (is_continuation(b)) continue;
    const size_t len = sequence_length(b);
    return (len > back) ? back : 0;
  }
  return 0;
}

std::string printable(std::string_view bytes, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool truncated = bytes.size() > max_bytes;
  if (truncated) bytes = bytes.substr(0, max_bytes);
  std::string out;
  out.reserve(bytes.size() + 8);
  size_t i = 0;
  while (i < bytes.size()) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    size_t len = sequence_length(b);
    // A character is copied only when it is complete and well formed; validate_utf8 on it alone says so.
    if (len > 1 && (i + len > bytes.size() || validate_utf8(bytes.substr(i, len)).has_value())) len = 0;
    if (len == 0 || b < 0x20 || b == 0x7F || b == '\\') {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
      ++i;
      continue;
    }
    out.append(bytes.substr(i, len));
    i += len;
  }
  if (truncated) out += "...";
  return out;
}

}  // namespace telltale::input
