// The account code of the fingerprint scheme (spec/fingerprint.md): a 32-bit account id becomes a 65536-bit codeword,
// a Reed-Solomon code over GF(2^8) (4 data symbols, 256 evaluation points) concatenated with the Hadamard code of
// each 8-bit symbol. Two distinct ids agree on at most 3 of the 256 symbols, so their codewords agree on at most
// 3 * 256 + 253 * 128 of the 65536 bits: the attribution statistic's null bound rests on that (spec/fingerprint.md).
#pragma once

#include <bit>
#include <cstdint>

namespace telltale {

inline constexpr uint32_t kFingerprintIdBits = 32;      // account ids are 0 .. 2^32 - 1
inline constexpr uint32_t kFingerprintSymbols = 256;    // outer (Reed-Solomon) length: GF(2^8) points 0..255
inline constexpr uint32_t kFingerprintInnerBits = 256;  // inner (Hadamard) length of one 8-bit symbol
inline constexpr uint32_t kFingerprintPositions = kFingerprintSymbols * kFingerprintInnerBits;  // L = 65536
inline constexpr uint32_t kFingerprintMaxAgreements = 3;  // symbols two distinct ids can share (degree-3 polynomials)
// Detector::account_marks' value for an id outside the vocabulary (never favoured, not scored).
inline constexpr uint32_t kFingerprintNoMark = 0xffffffffu;

// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (0x11b, the AES field).
uint8_t gf256_mul(uint8_t a, uint8_t b);

// Symbol `outer` (0..255) of the account's Reed-Solomon codeword: P(outer) with
// P(x) = a0 + a1 x + a2 x^2 + a3 x^3 over GF(2^8), a_k = byte k of the id (least significant first).
uint8_t fingerprint_symbol(uint32_t account, uint32_t outer);

// Inner bit `inner` (0..255) of a symbol: the Hadamard code, parity of (symbol AND inner).
inline unsigned fingerprint_inner_bit(uint8_t symbol, uint32_t inner) {
  return static_cast<unsigned>(std::popcount(static_cast<uint32_t>(symbol) & inner) & 1);
}

// Bit `position` (0..65535) of the account's codeword: symbol position / 256, inner bit position % 256.
inline unsigned fingerprint_codeword_bit(uint32_t account, uint32_t position) {
  return fingerprint_inner_bit(fingerprint_symbol(account, position >> 8), position & 0xffu);
}

}  // namespace telltale
