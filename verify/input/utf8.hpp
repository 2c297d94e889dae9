// UTF-8 validation for verifier inputs: SentencePiece and the watermark statistics both assume well-formed UTF-8,
// so every text document is checked before it is tokenized.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace telltale::input {

// Returns the offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629:
// overlong forms, UTF-16 surrogates U+D800..U+DFFF and code points above U+10FFFF are all ill-formed), or
// std::nullopt when `text` is entirely valid. A sequence cut off by the end of `text` is invalid at its
// first byte.
std::optional<size_t> validate_utf8(std::string_view text);

// The number of bytes, 0 to 3, at the end of `text` that start a multi-byte sequence the end cuts off.
// Lets a chunked reader cut before a character instead of through it.
size_t utf8_incomplete_tail(std::string_view text);

// `bytes` made safe for a one-line error message: control bytes, backslashes and ill-formed UTF-8 become \xNN
// escapes, and anything past `max_bytes` input bytes is replaced by "...".
std::string printable(std::string_view bytes, size_t max_bytes = 48);

}  // namespace telltale::input
