// Fuzzes validate_utf8 against a plain decode-then-check reference, and printable() for one-line, valid output.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_check.hpp"
#include "input/utf8.hpp"

namespace {

// The definition itself: decode each sequence, then refuse overlongs, surrogates and values past U+10FFFF.
std::optional<size_t> reference_validate(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1Fu;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0Fu;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace telltale::input;
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  const auto got = validate_utf8(s);
  FUZZ_CHECK(got == reference_validate(s));
  if (got) {
    FUZZ_CHECK(*got < size);
    FUZZ_CHECK(!validate_utf8(s.substr(0, *got)).has_value());  // everything before the bad byte is valid
  }
  const size_t tail = utf8_incomplete_tail(s);
  FUZZ_CHECK(tail <= 3 && tail <= size);
  if (!got) FUZZ_CHECK(tail == 0);
  const std::string shown = printable(s, 64);
  FUZZ_CHECK(!validate_utf8(shown).has_value());
  for (char c : shown) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
  return 0;
}
