// Keystream: AES-128 (OpenSSL EVP, ECB over counter blocks, i.e. CTR mode with random access) keyed once per object.
#include <openssl/evp.h>

#include <cstring>

#include "telltale/prf.hpp"

namespace telltale {

void make_counter_block(const StepSeed& seed, uint32_t counter, uint8_t* out) {
  std::memcpy(out, seed.nonce.data(), 12);
  out[12] = static_cast<uint8_t>(counter >> 24);
  out[13] = static_cast<uint8_t>(counter >> 16);
  out[14] = static_cast<uint8_t>(counter >> 8);
  out[15] = static_cast<uint8_t>(counter);
}

Result<Keystream> Keystream::create(std::span<const uint8_t, kKeystreamKeyBytes> key) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return Status{StatusCode::kNoMemory, "cannot allocate a cipher context"};
  // ECB over counter blocks we build ourselves is CTR mode with random access; padding off, whole blocks only.
  if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return Status{StatusCode::kInternal, "AES-128 initialisation failed"};
  }
  return Keystream(ctx);
}

Keystream::Keystream(Keystream&& other) noexcept : ctx_(other.ctx_) { other.ctx_ = nullptr; }

Keystream& Keystream::operator=(Keystream&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);  // frees and cleanses the expanded key
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

Keystream::~Keystream() { EVP_CIPHER_CTX_free(ctx_); }

void Keystream::encrypt_blocks(uint8_t* inout, size_t count) {
  // In-place is allowed by EVP_EncryptUpdate; count * 16 fits an int for every caller (chunks of at most 2^20 blocks).
  int outl = 0;
  EVP_EncryptUpdate(ctx_, inout, &outl, inout, static_cast<int>(count * 16));
}

void Keystream::blocks(const StepSeed& seed, uint32_t first, uint32_t count, uint8_t* out) {
  for (uint32_t i = 0; i < count; ++i) make_counter_block(seed, first + i, out + 16 * size_t{i});
  encrypt_blocks(out, count);
}

uint32_t Keystream::value(const StepSeed& seed, uint32_t id, unsigned bits) {
  uint8_t block[16];
  const uint32_t b = block_of(id, bits);
  blocks(seed, b, 1, block);
  return extract_value(block, b, id, bits);
}

}  // namespace telltale

namespace telltale {

void Keystream::gather(std::span<const StepSeed> seeds, std::span<const uint32_t> ids, unsigned bits, uint32_t* out,
                       uint8_t* scratch) {
  const bool one_seed = seeds.size() == 1;
  for (size_t i = 0; i < ids.size(); ++i) {
    make_counter_block(seeds[one_seed ? 0 : i], block_of(ids[i], bits), scratch + 16 * i);
  }
  encrypt_blocks(scratch, ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    out[i] = extract_value(scratch + 16 * i, block_of(ids[i], bits), ids[i], bits);
  }
}

}  // namespace telltale
