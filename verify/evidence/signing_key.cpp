#include "evidence/signing_key.hpp"

#include <sodium.h>

#include <cstring>

#include "input/tokenizer.hpp"

namespace telltale::evidence {

namespace {

constexpr char kSigningMagic[8] = {'T', 'T', 'S', 'I', 'G', 'v', '1', '\n'};
const SealedFileKind kSigningFileKind{kSigningMagic, "signing key file"};

}  // namespace

Result<SigningKey> SigningKey::from_seed(std::span<const uint8_t> seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) return invalid_argument("an Ed25519 seed is exactly 32 bytes");
  auto secret = SecretBytes::allocate(crypto_sign_SECRETKEYBYTES);
  if (!secret) return secret.status();
  auto seed_copy = SecretBytes::allocate(crypto_sign_SEEDBYTES);
  if (!seed_copy) return seed_copy.status();
  std::memcpy(seed_copy->data(), seed.data(), seed.size());
  SigningKey key;
  if (crypto_sign_seed_keypair(key.public_key_.data(), secret->data(), seed_copy->data()) != 0) {
    return Status{StatusCode::kInternal, "Ed25519 key derivation failed"};
  }
  key.secret_ = std::move(secret).value();
  key.seed_ = std::move(seed_copy).value();
  return key;
}

Result<SigningKey> SigningKey::generate() {
  auto seed = SecretBytes::allocate(crypto_sign_SEEDBYTES);  // allocate initialises libsodium
  if (!seed) return seed.status();
  randombytes_buf(seed->data(), seed->size());
  return from_seed(seed->bytes());
}

Result<SigningKey> SigningKey::read(const std::string& path) {
  auto bytes = read_private_file(path, kKeyFileBytes, kSigningFileKind.name);
  if (!bytes) return bytes.status();
  auto seed = parse_sealed_secret(bytes->bytes(), kSigningFileKind);
  if (!seed) return key_error(path + ": " + seed.status().message());
  return from_seed(seed->bytes());
}

Status SigningKey::write(const std::string& path) const {
  auto bytes = seal_secret(seed_.bytes(), kSigningFileKind);
  if (!bytes) return bytes.status();
  return write_private_file(path, bytes->bytes(), kSigningFileKind.name);
}

Signature SigningKey::sign(std::span<const uint8_t> message) const {
  Signature s{};
  crypto_sign_detached(s.data(), nullptr, message.data(), message.size(), secret_.data());
  return s;
}

bool verify_signature(const SigningPublicKey& key, std::span<const uint8_t> message, const Signature& signature) {
  if (sodium_init() < 0) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()) == 0;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * bytes.size());
  for (uint8_t c : bytes) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

bool from_hex(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != 2 * out.size()) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string public_key_text(const SigningPublicKey& key) {
  return std::string(kPublicKeyTag) + " " + to_hex(key) + "\n";
}

Result<SigningPublicKey> parse_public_key(std::string_view text) {
  const std::string prefix = std::string(kPublicKeyTag) + " ";
  const size_t expected = prefix.size() + 2 * kSigningPublicKeyBytes + 1;
  if (text.substr(0, prefix.size()) != prefix) {
    return key_error("not a telltale signing public key (expected a line starting '" + prefix + "')");
  }
  if (text.size() != expected || text.back() != '\n') {
    return key_error("signing public key: expected one line of " + std::to_string(expected) + " bytes, got " +
                     std::to_string(text.size()));
  }
  SigningPublicKey key{};
  if (!from_hex(text.substr(prefix.size(), 2 * kSigningPublicKeyBytes), key)) {
    return key_error("signing public key: not 64 lowercase hex digits");
  }
  return key;
}

std::string public_key_id(const SigningPublicKey& key) {
  return input::sha256_hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

}  // namespace telltale::evidence
