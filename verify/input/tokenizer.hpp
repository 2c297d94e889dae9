// The generator's tokenizer (a SentencePiece .model or a llama.cpp GGUF vocabulary, picked by file type), loaded once
// and fingerprinted (SHA-256 of the file) so that every result can record exactly which tokenizer made its ids.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "input/tokenizer_model.hpp"
#include "telltale/status.hpp"

namespace telltale::input {

// Move-only. encode/decode are const and may be called from several threads at once (both implementations keep no
// per-call state; the piece cache is per thread).
class Tokenizer {
 public:
  // Reads the file once, hashes those bytes and loads the same bytes (SentencePiece) or the same open file (GGUF),
  // so the hash always matches the model in use. A file starting with "GGUF" is a llama.cpp vocabulary, anything
  // else a SentencePiece model. Errors: missing or unreadable file (kIo); not a SentencePiece model, not a GGUF
  // vocabulary or a truncated one, or a GGUF in a build without llama.cpp (kInvalidArgument).
  static Result<Tokenizer> load(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  ~Tokenizer();

  // Encodes UTF-8 `text` into `out` (cleared first), with no BOS or EOS id added and special tokens not parsed.
  // Through the exact piece cache when it is on (the default, where the model allows it): the same ids either way.
  Status encode(std::string_view text, std::vector<int32_t>& out) const;
  // The same, never through the cache.
  Status encode_uncached(std::string_view text, std::vector<int32_t>& out) const;
  // Decodes ids, each in [0, vocab_size()), back to text.
  Result<std::string> decode(std::span<const int32_t> ids) const;

  int32_t vocab_size() const;
  int32_t bos_id() const;  // -1 when the model has none
  int32_t eos_id() const;  // -1 when the model has none
  TokenizerKind kind() const;
  const char* kind_name() const { return tokenizer_kind_name(kind()); }
  // Whether encode() goes through the piece cache; set_piece_cache(false) turns it off (benchmarks, tests), true
  // turns it back on where the model allows it. piece_cache_off_reason(): why the model does not ("" if it does).
  bool piece_cache() const { return cache_on_; }
  void set_piece_cache(bool on);
  std::string piece_cache_off_reason() const;
  // SHA-256 of the model file's bytes, 64 lowercase hex digits.
  const std::string& sha256_hex() const { return sha256_hex_; }
  const std::string& path() const { return path_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<const TokenizerModel> model_;
  uint64_t serial_ = 0;  // names this tokenizer to the per-thread piece caches
  bool cache_on_ = false;
  std::string sha256_hex_;
  std::string path_;
};

// SHA-256 of a file's bytes as 64 lowercase hex digits, read in fixed-size chunks (any file size, constant memory).
Result<std::string> sha256_file_hex(const std::string& path);

// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace telltale::input
