// The generator's SentencePiece model, loaded once and fingerprinted (SHA-256 of the file) so that every
// verification result can record exactly which tokenizer produced the ids it scored.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "telltale/status.hpp"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace telltale::input {

// Move-only. encode/decode are const and may be called from several threads at once (SentencePiece's own
// Encode/Decode are const and keep no per-call state in the processor).
class Tokenizer {
 public:
  // Reads the model file once, hashes those bytes and loads the same bytes, so the hash always matches the model
  // in use. Errors: missing or unreadable file (kIo), not a SentencePiece model (kInvalidArgument).
  static Result<Tokenizer> load(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  ~Tokenizer();

  // Encodes UTF-8 `text` into `out` (cleared first), with no BOS or EOS id added.
  Status encode(std::string_view text, std::vector<int32_t>& out) const;
  // Decodes ids, each in [0, vocab_size()), back to text.
  Result<std::string> decode(std::span<const int32_t> ids) const;

  int32_t vocab_size() const;
  int32_t bos_id() const;  // -1 when the model has none
  int32_t eos_id() const;  // -1 when the model has none
  // SHA-256 of the model file's bytes, 64 lowercase hex digits.
  const std::string& sha256_hex() const { return sha256_hex_; }
  const std::string& path() const { return path_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::string sha256_hex_;
  std::string path_;
};

// SHA-256 of a file's bytes as 64 lowercase hex digits, read in fixed-size chunks (any file size, constant memory).
Result<std::string> sha256_file_hex(const std::string& path);

// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace telltale::input
