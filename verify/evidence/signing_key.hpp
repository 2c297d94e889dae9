// Ed25519 signing keys for evidence bundles (libsodium crypto_sign): the secret seed lives in a private 80-byte
// sealed file like a watermark key file (magic TTSIGv1), the public key in a one-line text file anyone may hold.
// A signing key is separate from the watermark key: publishing its public half reveals nothing about the watermark.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "telltale/keyring.hpp"
#include "telltale/status.hpp"

namespace telltale::evidence {

inline constexpr size_t kSigningPublicKeyBytes = 32;  // crypto_sign_PUBLICKEYBYTES
inline constexpr size_t kSignatureBytes = 64;         // crypto_sign_BYTES
// The public key file: this tag, a space, 64 lowercase hex digits, a line feed (spec/evidence-bundle.md).
inline constexpr std::string_view kPublicKeyTag = "telltale-ed25519-public-key-v1";

using SigningPublicKey = std::array<uint8_t, kSigningPublicKeyBytes>;
using Signature = std::array<uint8_t, kSignatureBytes>;

class SigningKey {
 public:
  // A fresh key pair from libsodium's CSPRNG.
  static Result<SigningKey> generate();
  // Reads a signing key file (private: refused when group or others have access; spec/evidence-bundle.md).
  static Result<SigningKey> read(const std::string& path);
  // Writes the secret seed to a new private file (0600, never overwrites).
  Status write(const std::string& path) const;

  const SigningPublicKey& public_key() const { return public_key_; }
  // Ed25519 detached signature of `message`.
  Signature sign(std::span<const uint8_t> message) const;

 private:
  SigningKey() = default;
  static Result<SigningKey> from_seed(std::span<const uint8_t> seed);
  SecretBytes secret_;  // libsodium's 64-byte secret key (seed || public key)
  SecretBytes seed_;
  SigningPublicKey public_key_{};
};

// True when `signature` is a valid Ed25519 signature of `message` under `key`.
bool verify_signature(const SigningPublicKey& key, std::span<const uint8_t> message, const Signature& signature);

// The public key file's text, and its strict parse (one line, the tag, exactly 64 lowercase hex digits).
std::string public_key_text(const SigningPublicKey& key);
Result<SigningPublicKey> parse_public_key(std::string_view text);
// The public key's id: SHA-256 of its 32 bytes, hex. Short enough to read aloud, safe to publish.
std::string public_key_id(const SigningPublicKey& key);

// Lowercase hex, and its strict inverse (exactly 2 * out.size() lowercase digits).
std::string to_hex(std::span<const uint8_t> bytes);
bool from_hex(std::string_view hex, std::span<uint8_t> out);

}  // namespace telltale::evidence
