// SHA-256 through OpenSSL's EVP API, for the checksums that close telltale's binary files.
#include "score/file_checksum.hpp"

#include <openssl/evp.h>

namespace telltale::score {

struct FileChecksum::State {
  EVP_MD_CTX* ctx = nullptr;
  bool ok = false;
  ~State() { EVP_MD_CTX_free(ctx); }
};

FileChecksum::FileChecksum() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  state_->ok = state_->ctx != nullptr && EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) == 1;
}

FileChecksum::~FileChecksum() = default;
FileChecksum::FileChecksum(FileChecksum&&) noexcept = default;
FileChecksum& FileChecksum::operator=(FileChecksum&&) noexcept = default;

void FileChecksum::update(const void* bytes, size_t n) noexcept {
  if (state_->ok && n > 0) state_->ok = EVP_DigestUpdate(state_->ctx, bytes, n) == 1;
}

Result<FileChecksum::Digest> FileChecksum::digest() const {
  Digest out{};
  if (!state_->ok) return Status(StatusCode::kInternal, "SHA-256 failed (OpenSSL)");
  // Finalizes a copy, so that the running state stays usable.
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  unsigned int len = 0;
  const bool ok = copy != nullptr && EVP_MD_CTX_copy_ex(copy, state_->ctx) == 1 &&
                  EVP_DigestFinal_ex(copy, out.data(), &len) == 1 && len == kBytes;
  EVP_MD_CTX_free(copy);
  if (!ok) return Status(StatusCode::kInternal, "SHA-256 failed (OpenSSL)");
  return out;
}

}  // namespace telltale::score
