// Keystream: AES-128 (OpenSSL EVP, ECB over counter blocks, i.e. CTR mode with random access) keyed once per object.
#include <openssl/evp.h>

#include "prf/keyed_values.hpp"
#include "telltale/prf.hpp"

namespace telltale {

void make_counter_block(const StepSeed& seed, uint32_t counter, uint8_t* out) {
  detail::CounterBlocks(seed).write(counter, out);
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
  const detail::CounterBlocks counters(seed);
  for (uint32_t i = 0; i < count; ++i) counters.write(first + i, out + 16 * size_t{i});
  encrypt_blocks(out, count);
}

uint32_t Keystream::value(const StepSeed& seed, uint32_t id, unsigned bits) {
  uint32_t out = 0;
  uint8_t block[16];
  gather({&seed, 1}, {&id, 1}, bits, &out, block);
  return out;
}

void Keystream::gather(std::span<const StepSeed> seeds, std::span<const uint32_t> ids, unsigned bits, uint32_t* out,
                       uint8_t* scratch) {
  const size_t n = ids.size();
  const auto id_of = [ids](size_t i) { return ids[i]; };
  const auto store = [out](size_t i, uint32_t value) { out[i] = value; };
  detail::with_bits(bits, [&](auto width) {
    constexpr unsigned kBits = decltype(width)::value;
    if (seeds.size() == 1) {
      const detail::CounterBlocks counters(seeds[0]);
      detail::read_values<kBits>(
          *this, n, [&counters](size_t) { return counters; }, id_of, store, scratch, n);
    } else {
      const auto counters_of = [seeds](size_t i) { return detail::CounterBlocks(seeds[i]); };
      detail::read_values<kBits>(*this, n, counters_of, id_of, store, scratch, n);
    }
  });
}

}  // namespace telltale
