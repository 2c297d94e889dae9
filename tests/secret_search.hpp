// Every encoding of a secret a program could plausibly print (raw, hex in both cases, base64, C escapes), for the
// tests that search outputs for leaked key material.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "telltale/keyring.hpp"

namespace telltale::test {

inline std::string hex(const std::string& bytes, bool upper) {
  static const char* lower_digits = "0123456789abcdef";
  static const char* upper_digits = "0123456789ABCDEF";
  const char* d = upper ? upper_digits : lower_digits;
  std::string s;
  for (unsigned char c : bytes) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

inline std::string base64(const std::string& bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  for (size_t i = 0; i + 2 < bytes.size(); i += 3) {  // full groups are enough to find a leak
    const uint32_t v =
        (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    for (int k = 3; k >= 0; --k) s += a[(v >> (6 * k)) & 63];
  }
  return s;
}

// C escapes: every byte as \xNN (`all` true), or only the bytes outside printable ASCII and the backslash (what a
// message that escapes control bytes prints), in lower or upper case hex.
inline std::string c_escaped(const std::string& bytes, bool all, bool upper) {
  std::string s;
  for (unsigned char c : bytes) {
    if (!all && c >= 0x20 && c < 0x7f && c != '\\') {
      s += static_cast<char>(c);
    } else {
      s += "\\x" + hex(std::string(1, static_cast<char>(c)), upper);
    }
  }
  return s;
}

// Every encoding of `secret` we would plausibly print, at 8 bytes and longer (a shorter run could occur by chance).
inline std::vector<std::string> encodings(const std::string& secret) {
  std::vector<std::string> out;
  for (size_t start = 0; start + 8 <= secret.size(); start += 8) {
    const std::string piece = secret.substr(start, 8);
    out.push_back(piece);
    out.push_back(hex(piece, false));
    out.push_back(hex(piece, true));
    for (bool all : {false, true}) {
      for (bool upper : {false, true}) out.push_back(c_escaped(piece, all, upper));
    }
  }
  // Base64 of the secret at each of the three alignments it can have inside a longer encoded text (a whole file).
  for (size_t shift = 0; shift < 3 && shift < secret.size(); ++shift) {
    const std::string b = base64(secret.substr(shift));
    for (size_t start = 0; start + 12 <= b.size(); start += 12) out.push_back(b.substr(start, 12));
  }
  return out;
}

// The encodings of a master secret and of every subkey derived from it (all schemes and purposes, index 0, 16 bytes).
inline std::vector<std::string> key_needles(const std::string& secret) {
  std::vector<std::string> needles = encodings(secret);
  auto ring =
      KeyRing::from_secret(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
  REQUIRE(ring.is_ok());
  for (auto scheme : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament, SchemeKind::kFingerprint}) {
    for (auto purpose : {KeyPurpose::kSeeder, KeyPurpose::kKeystream, KeyPurpose::kAccount}) {
      std::string sub(16, '\0');
      REQUIRE(ring->derive(scheme, purpose, 0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(sub.data()), 16)).is_ok());
      for (auto& e : encodings(sub)) needles.push_back(e);
    }
  }
  return needles;
}

}  // namespace telltale::test
