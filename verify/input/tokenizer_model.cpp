// The tokenizer kinds' names and the file-type detection that picks one from a file's first bytes.
#include "input/tokenizer_model.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace telltale::input {

const char* tokenizer_kind_name(TokenizerKind kind) {
  switch (kind) {
    case TokenizerKind::kSentencePiece: return "sentencepiece";
    case TokenizerKind::kGguf: return "gguf";
  }
  return "unknown";
}

TokenizerKind tokenizer_file_kind(std::string_view first_bytes) {
  // GGUF files open with the magic "GGUF" (gguf.h, GGUF_MAGIC); a SentencePiece model is a serialized protobuf,
  // whose first byte is a field tag (0x0A for ModelProto's pieces), never 'G'.
  return first_bytes.substr(0, 4) == "GGUF" ? TokenizerKind::kGguf : TokenizerKind::kSentencePiece;
}

Result<TokenizerKind> tokenizer_file_kind(int fd, const std::string& path) {
  char head[4] = {};
  const ssize_t got = ::pread(fd, head, sizeof head, 0);
  if (got < 0) return io_error(path + ": cannot read tokenizer model: " + std::strerror(errno));
  return tokenizer_file_kind(std::string_view(head, static_cast<size_t>(got)));
}

}  // namespace telltale::input
