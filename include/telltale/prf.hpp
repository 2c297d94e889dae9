// The keyed pseudorandom function: a Seeder turns a context window into a step seed, a Keystream turns a step seed
// into a value for every vocabulary id. The exact construction is normative: spec/prf.md, with test vectors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "telltale/status.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;  // OpenSSL's, forward-declared so users need no OpenSSL headers

namespace telltale {

inline constexpr size_t kSeederKeyBytes = 16;     // SipHash-2-4 key
inline constexpr size_t kKeystreamKeyBytes = 16;  // AES-128 key
inline constexpr uint32_t kMaxContextWidth = 16;

// The 96-bit nonce of one decoding step. Keystream block i is AES-128_K(nonce || be32(i)).
struct StepSeed {
  std::array<uint8_t, 12> nonce{};
  bool operator==(const StepSeed&) const = default;
  // The first 8 bytes as a little-endian integer: an identity for the context in de-duplication sets.
  uint64_t fingerprint() const;
};

// How a context window becomes a step seed.
//   left-hash:  message = 'L' || le32(x[t-h]) || ... || le32(x[t-1])        (h previous tokens)
//   self-hash:  message = 'S' || le32(x[t-h+1]) || ... || le32(x[t-1]) || le32(candidate)
// seed = first 12 bytes of SipHash-2-4-128(key, message)  (libsodium crypto_shorthash_siphashx24).
// The Seeder refers to the caller's key bytes (kept in secure memory by the Hook); they must outlive it.
class Seeder {
 public:
  Seeder() = default;
  explicit Seeder(std::span<const uint8_t, kSeederKeyBytes> key) : key_(key.data()) {}

  // `window` holds exactly h tokens, oldest first.
  StepSeed left_hash(std::span<const int32_t> window) const;
  // `window` holds exactly h-1 tokens, oldest first (empty for h = 1).
  StepSeed self_hash(std::span<const int32_t> window, int32_t candidate) const;
  // The seeds of many positions of one sequence with h tokens of context (1 <= h <= kMaxContextWidth): for j in
  // [0, out.size()) and i = first + j, out[j] = left_hash(tokens[i - h, i)), or with `self` self_hash(tokens[i - h + 1,
  // i), tokens[i]). Requires first >= h (left-hash) or h - 1 (self-hash) and first + out.size() <= tokens.size().
  // The same seeds as one call per position, computed in SIMD lanes where the CPU has them: the verifier's fast path.
  void seed_positions(std::span<const int32_t> tokens, size_t first, uint32_t h, bool self,
                      std::span<StepSeed> out) const;

 private:
  const uint8_t* key_ = nullptr;
};

// Reads the keystream of any step seed: by block, by id, or for many ids at once. Holds an OpenSSL cipher context,
// so one Keystream serves one thread at a time (each sequence state and each scoring thread owns one).
class Keystream {
 public:
  static Result<Keystream> create(std::span<const uint8_t, kKeystreamKeyBytes> key);
  Keystream() = default;
  Keystream(Keystream&& other) noexcept;
  Keystream& operator=(Keystream&& other) noexcept;
  Keystream(const Keystream&) = delete;
  Keystream& operator=(const Keystream&) = delete;
  ~Keystream();
  bool valid() const { return ctx_ != nullptr; }

  // Writes blocks [first, first + count) of the step's keystream, 16 bytes each, to `out` (16 * count bytes).
  void blocks(const StepSeed& seed, uint32_t first, uint32_t count, uint8_t* out);

  // Encrypts caller-built counter blocks in place: in[i] = nonce || be32(counter). One cipher call for all of them.
  void encrypt_blocks(uint8_t* inout, size_t count);

  // The `bits`-wide value of vocabulary id `id` (bits in {1, 2, 4, 8, 16, 32}): bit offset id * bits of the keystream,
  // bits taken least-significant first within each byte, multi-byte values little-endian.
  uint32_t value(const StepSeed& seed, uint32_t id, unsigned bits);

  // out[i] = value of ids[i] under seeds[0] (one seed) or seeds[i] (one seed per id), in one cipher call.
  // `scratch` holds 16 * ids.size() bytes.
  void gather(std::span<const StepSeed> seeds, std::span<const uint32_t> ids, unsigned bits, uint32_t* out,
              uint8_t* scratch);

 private:
  explicit Keystream(EVP_CIPHER_CTX* ctx) : ctx_(ctx) {}
  EVP_CIPHER_CTX* ctx_ = nullptr;  // holds the expanded AES key; OpenSSL cleanses it on free
};

// Builds the counter block nonce || be32(counter) at `out` (16 bytes).
void make_counter_block(const StepSeed& seed, uint32_t counter, uint8_t* out);

// Extracts the value of id `id` from keystream bytes that start at block `first_block`.
inline uint32_t extract_value(const uint8_t* ks, uint32_t first_block, uint32_t id, unsigned bits) {
  const uint64_t bit = uint64_t{id} * bits - uint64_t{first_block} * 128;
  const uint8_t* p = ks + (bit >> 3);
  switch (bits) {
    case 32: return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    case 16: return uint32_t{p[0]} | uint32_t{p[1]} << 8;
    case 8: return p[0];
    default: return (uint32_t{p[0]} >> (bit & 7)) & ((1u << bits) - 1);
  }
}

// The keystream block that holds id `id` at `bits` per id.
inline uint32_t block_of(uint32_t id, unsigned bits) { return static_cast<uint32_t>((uint64_t{id} * bits) >> 7); }

}  // namespace telltale
