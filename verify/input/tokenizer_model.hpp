// The interface every tokenizer file format implements (SentencePiece .model, llama.cpp GGUF vocabulary), behind the
// one Tokenizer that the verifier holds: encode and decode plus what the exact piece cache needs to know.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::input {

// Which file format a tokenizer was read from; recorded in evidence as its name.
enum class TokenizerKind { kSentencePiece, kGguf };

// "sentencepiece" or "gguf".
const char* tokenizer_kind_name(TokenizerKind kind);

// The kind of a tokenizer file from its first bytes (at least 4 when the file has them): GGUF by its magic, anything
// else is read as SentencePiece (whose loader then says when it is not one).
TokenizerKind tokenizer_file_kind(std::string_view first_bytes);

// The same, from the first bytes of the open file `fd` (read in place, the file offset left as it is); the error
// names `path` ("<path>: cannot read tokenizer model: <errno text>").
Result<TokenizerKind> tokenizer_file_kind(int fd, const std::string& path);

// How the exact piece cache (cached_tokenizer.hpp) may cut text for a model. kNone: never (the model's rules can
// merge or normalize across any boundary). kSpaceBeforeWord: at an ASCII space between two ASCII letters, the space
// going to the right-hand piece. kSpaceBeforeWordDropped: at the same place, the right-hand piece encoded without
// its leading space, because the model adds that space itself (a dummy prefix) to every text it encodes.
enum class PieceSplit { kNone, kSpaceBeforeWord, kSpaceBeforeWordDropped };

// One loaded tokenizer model. Implementations are immutable after loading: encode and decode are const and safe to
// call from several threads at once.
class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  // Encodes well-formed UTF-8 `text` into `out` (cleared first), without BOS or EOS ids, and without parsing special
  // tokens: text that spells a special token is tokenized as plain text.
  virtual Status encode(std::string_view text, std::vector<int32_t>& out) const = 0;
  // Decodes ids, each already checked to lie in [0, vocab_size()), to text.
  virtual Result<std::string> decode(std::span<const int32_t> ids) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when the model has none
  virtual int32_t eos_id() const = 0;  // -1 when the model has none
  virtual TokenizerKind kind() const = 0;
  virtual PieceSplit piece_split() const = 0;
  // Why piece_split() is kNone, for the bench and the docs ("" when it is not).
  virtual std::string piece_split_reason() const = 0;
};

}  // namespace telltale::input
