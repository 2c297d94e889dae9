// Seeder: SipHash-2-4-128 of the context window (libsodium) gives the 96-bit nonce of a decoding step.
#include <sodium.h>

#include <cstring>

#include "prf/siphash_lanes.hpp"
#include "telltale/prf.hpp"

namespace telltale {
namespace {

void put_le32(uint8_t* p, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(u >> (8 * i));
}

StepSeed hash_message(const uint8_t* msg, size_t len, const uint8_t* key) {
  static_assert(crypto_shorthash_siphashx24_BYTES == 16 && crypto_shorthash_siphashx24_KEYBYTES == kSeederKeyBytes);
  uint8_t out[16];
  crypto_shorthash_siphashx24(out, msg, len, key);
  StepSeed s;
  std::memcpy(s.nonce.data(), out, s.nonce.size());
  return s;
}

}  // namespace

uint64_t StepSeed::fingerprint() const {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | nonce[static_cast<size_t>(i)];
  return v;
}

StepSeed Seeder::left_hash(std::span<const int32_t> window) const {
  uint8_t msg[1 + 4 * kMaxContextWidth];
  msg[0] = 'L';
  const size_t n = window.size() < kMaxContextWidth ? window.size() : kMaxContextWidth;
  for (size_t i = 0; i < n; ++i) put_le32(msg + 1 + 4 * i, window[i]);
  return hash_message(msg, 1 + 4 * n, key_);
}

StepSeed Seeder::self_hash(std::span<const int32_t> window, int32_t candidate) const {
  uint8_t msg[1 + 4 * kMaxContextWidth];
  msg[0] = 'S';
  const size_t n = window.size() < kMaxContextWidth - 1 ? window.size() : kMaxContextWidth - 1;
  for (size_t i = 0; i < n; ++i) put_le32(msg + 1 + 4 * i, window[i]);
  put_le32(msg + 1 + 4 * n, candidate);
  return hash_message(msg, 1 + 4 * (n + 1), key_);
}

void Seeder::seed_positions(std::span<const int32_t> tokens, size_t first, uint32_t h, bool self,
                            std::span<StepSeed> out) const {
  // A left-hash message holds the h ids before position i, a self-hash message the h - 1 before it and the id at i:
  // either way a run of h consecutive ids, starting h (or h - 1) before i.
  const size_t start = first - (self ? h - 1 : h);
  detail::siphash_runs(detail::best_sip_lanes(), key_, self ? 'S' : 'L', tokens.data() + start, h, out.size(),
                       out.data());
}

}  // namespace telltale
