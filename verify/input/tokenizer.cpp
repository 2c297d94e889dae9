// Tokenizer: the file read and fingerprinted once, the implementation picked by file type, the piece cache in front;
// plus SHA-256 fingerprints of files through OpenSSL's EVP API.
#include "input/tokenizer.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "input/cached_tokenizer.hpp"
#include "input/gguf_tokenizer.hpp"
#include "input/sentencepiece_tokenizer.hpp"
#include "input/utf8.hpp"
#include "telltale/input_file.hpp"

namespace telltale::input {
namespace {

constexpr size_t kHashChunk = size_t{1} << 20;
constexpr off_t kMaxModelBytes = off_t{1} << 30;  // far above any real SentencePiece model

std::string to_hex(const unsigned char* digest, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Opens `path` for reading and refuses anything that is not a regular file (a FIFO cannot block the open), so a
// directory fails with a clear message instead of EISDIR from read().
Result<FileDescriptor> open_regular(const std::string& path, const char* what, off_t& size) {
  auto fd = open_input_file(path, what);
  if (!fd) return fd.status();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return io_error(path + ": cannot stat " + what + ": " + std::strerror(errno));
  size = st.st_size;
  return fd;
}

Result<size_t> read_some(int fd, char* dst, size_t n) {
  while (true) {
    const ssize_t got = ::read(fd, dst, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) return io_error(std::strerror(errno));
  }
}

// SHA-256 of the whole file open on `fd`, read from its current offset to its end.
Result<std::string> sha256_fd_hex(int fd, const std::string& path) {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status(StatusCode::kInternal, path + ": cannot start SHA-256 (OpenSSL)");
  }
  auto chunk = std::make_unique_for_overwrite<char[]>(kHashChunk);
  uint64_t total = 0;
  while (true) {
    auto got = read_some(fd, chunk.get(), kHashChunk);
    if (!got) return io_error(path + ": read failed at byte " + std::to_string(total) + ": " + got.status().message());
    if (*got == 0) break;
    if (EVP_DigestUpdate(ctx.get(), chunk.get(), *got) != 1) {
      return Status(StatusCode::kInternal, path + ": SHA-256 update failed (OpenSSL)");
    }
    total += *got;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &digest_size) != 1) {
    return Status(StatusCode::kInternal, path + ": SHA-256 final failed (OpenSSL)");
  }
  return to_hex(digest, digest_size);
}

// The whole SentencePiece model file, which is parsed from memory (bounded: a real model is a few megabytes).
Result<std::string> read_model_bytes(int fd, off_t size, const std::string& path) {
  if (size > kMaxModelBytes) return invalid_argument(path + ": not a SentencePiece model (file is too large)");
  std::string bytes;
  bytes.reserve(static_cast<size_t>(size));
  char chunk[64 * 1024];
  while (true) {
    auto got = read_some(fd, chunk, sizeof chunk);
    if (!got) return io_error(path + ": cannot read tokenizer model: " + got.status().message());
    if (*got == 0) break;
    bytes.append(chunk, *got);
    if (bytes.size() > static_cast<size_t>(kMaxModelBytes)) {
      return invalid_argument(path + ": not a SentencePiece model (file is too large)");
    }
  }
  if (bytes.empty()) return invalid_argument(path + ": not a SentencePiece model (the file is empty)");
  if (const auto kind = key_file_kind(bytes); !kind.empty()) {
    return key_file_refusal(path, kind, "a SentencePiece model");
  }
  return bytes;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  return to_hex(digest, size);
}

Result<std::string> sha256_file_hex(const std::string& path) {
  off_t size = 0;
  auto fd = open_regular(path, "file", size);
  if (!fd) return fd.status();
  return sha256_fd_hex(fd->get(), path);
}

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::load(const std::string& path) {
  try {
    off_t size = 0;
    auto fd = open_regular(path, "tokenizer model", size);
    if (!fd) return fd.status();
    const auto kind = tokenizer_file_kind(fd->get(), path);
    if (!kind) return kind.status();
    Tokenizer tok;
    if (*kind == TokenizerKind::kGguf) {
      // A whole model can be gigabytes: hashed as a stream, then llama.cpp reads its vocabulary from the same file.
      auto sha = sha256_fd_hex(fd->get(), path);
      if (!sha) return sha.status();
      auto model = load_gguf_vocabulary(fd->get(), path);
      if (!model) return model.status();
      tok.model_ = std::move(*model);
      tok.sha256_hex_ = std::move(*sha);
    } else {
      auto bytes = read_model_bytes(fd->get(), size, path);
      if (!bytes) return bytes.status();
      auto model = load_sentencepiece_model(*bytes, path);
      if (!model) return model.status();
      tok.model_ = std::move(*model);
      tok.sha256_hex_ = input::sha256_hex(*bytes);
      if (tok.sha256_hex_.empty()) return Status(StatusCode::kInternal, path + ": SHA-256 failed (OpenSSL)");
    }
    tok.path_ = path;
    static std::atomic<uint64_t> next_serial{1};
    tok.serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);
    tok.set_piece_cache(true);
    return tok;
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, path + ": out of memory loading the tokenizer model");
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal, path + ": loading the tokenizer model failed: " + printable(e.what(), 200));
  }
}

namespace {

// Both kinds of tokenizer would tokenize ill-formed UTF-8 somehow (SentencePiece as U+FFFD, llama.cpp byte by byte or
// by throwing): refused here instead, as the input layer refuses it before a document reaches the tokenizer.
Status check_utf8(std::string_view text) {
  if (const auto bad = validate_utf8(text))
    return invalid_argument("invalid UTF-8 at byte " + std::to_string(*bad) + ": cannot tokenize");
  return Status::ok();
}

}  // namespace

Status Tokenizer::encode(std::string_view text, std::vector<int32_t>& out) const {
  out.clear();
  if (!model_) return Status(StatusCode::kState, "tokenizer is not loaded (moved from)");
  TT_RETURN_IF_ERROR(check_utf8(text));
  if (cache_on_) return encode_with_piece_cache(*model_, serial_, text, out);
  return model_->encode(text, out);
}

Status Tokenizer::encode_uncached(std::string_view text, std::vector<int32_t>& out) const {
  out.clear();
  if (!model_) return Status(StatusCode::kState, "tokenizer is not loaded (moved from)");
  TT_RETURN_IF_ERROR(check_utf8(text));
  return model_->encode(text, out);
}

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids) const {
  if (!model_) return Status(StatusCode::kState, "tokenizer is not loaded (moved from)");
  const int32_t vocab = vocab_size();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      return invalid_argument("token " + std::to_string(i + 1) + " (id " + std::to_string(ids[i]) +
                              ") is out of range for a vocabulary of " + std::to_string(vocab));
    }
  }
  return model_->decode(ids);
}

int32_t Tokenizer::vocab_size() const { return model_ ? model_->vocab_size() : 0; }
int32_t Tokenizer::bos_id() const { return model_ ? model_->bos_id() : -1; }
int32_t Tokenizer::eos_id() const { return model_ ? model_->eos_id() : -1; }
TokenizerKind Tokenizer::kind() const { return model_ ? model_->kind() : TokenizerKind::kSentencePiece; }

void Tokenizer::set_piece_cache(bool on) { cache_on_ = on && model_ && model_->piece_split() != PieceSplit::kNone; }

std::string Tokenizer::piece_cache_off_reason() const { return model_ ? model_->piece_split_reason() : "not loaded"; }

}  // namespace telltale::input
