// The account code: GF(2^8) arithmetic and the Reed-Solomon symbols of an account id
// (include/telltale/fingerprint.hpp).
#include "telltale/fingerprint.hpp"

namespace telltale {

uint8_t gf256_mul(uint8_t a, uint8_t b) {
  // Shift-and-add (Russian peasant) with reduction by 0x11b; branch-free so that its time does not depend on the id.
  uint32_t x = a;
  uint32_t y = b;
  uint32_t r = 0;
  for (int i = 0; i < 8; ++i) {
    r ^= x & (0u - (y & 1u));
    y >>= 1;
    x <<= 1;
    x ^= 0x11bu & (0u - ((x >> 8) & 1u));
  }
  return static_cast<uint8_t>(r);
}

uint8_t fingerprint_symbol(uint32_t account, uint32_t outer) {
  const auto x = static_cast<uint8_t>(outer);
  // Horner: ((a3 x + a2) x + a1) x + a0.
  uint8_t r = static_cast<uint8_t>(account >> 24);
  r = static_cast<uint8_t>(gf256_mul(r, x) ^ static_cast<uint8_t>(account >> 16));
  r = static_cast<uint8_t>(gf256_mul(r, x) ^ static_cast<uint8_t>(account >> 8));
  r = static_cast<uint8_t>(gf256_mul(r, x) ^ static_cast<uint8_t>(account));
  return r;
}

}  // namespace telltale
