// KeyRing: the master secret, its public key id, and the subkeys derived from it for each scheme and purpose.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "telltale/scheme.hpp"
#include "telltale/status.hpp"

namespace telltale {

inline constexpr size_t kMasterSecretBytes = 32;
inline constexpr size_t kKeyIdBytes = 32;    // SHA-256
inline constexpr size_t kKeyFileBytes = 80;  // see spec/key-file.md
inline constexpr uint32_t kKeyFileVersion = 1;

// Which part of the system a subkey serves. The numeric values are part of the spec (spec/prf.md).
enum class KeyPurpose : uint64_t {
  kSeeder = 1,     // SipHash key that turns a context window into a step seed
  kKeystream = 2,  // AES-128 key of the per-step keystream
  kAccount = 3,    // account-layer keystream of the fingerprint scheme
};

// A buffer of secret bytes in libsodium guarded memory: mlock'd, guard pages, wiped on destruction.
class SecretBytes {
 public:
  SecretBytes() = default;
  static Result<SecretBytes> allocate(size_t size);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class KeyRing {
 public:
  // A fresh 32-byte master secret from libsodium's CSPRNG.
  static Result<KeyRing> generate();
  // From known secret bytes (test vectors, key escrow). The caller should wipe its copy.
  static Result<KeyRing> from_secret(std::span<const uint8_t> secret);
  // Parses the bytes of a key file (spec/key-file.md): checks size, magic, version and checksum.
  static Result<KeyRing> parse(std::span<const uint8_t> file_bytes);

  // The key file bytes, in secure memory.
  Result<SecretBytes> serialize() const;

  // SHA-256("telltale key id v1" || secret): a public commitment to the secret, safe to publish.
  const std::array<uint8_t, kKeyIdBytes>& key_id() const { return key_id_; }
  std::string key_id_hex() const;

  // Fills `out` (16..64 bytes) with the subkey for (scheme, purpose, index) via crypto_kdf_derive_from_key.
  Status derive(SchemeKind scheme, KeyPurpose purpose, uint64_t index, std::span<uint8_t> out) const;

 private:
  KeyRing() = default;
  SecretBytes secret_;
  std::array<uint8_t, kKeyIdBytes> key_id_{};
};

// The 80-byte sealed layout of key files, shared with the verifier's signing key files (spec/key-file.md section 2):
// magic[8] | version u32 LE (1) | reserved u32 (0) | secret[32] | SHA-256 of bytes 0..47. `magic` is 8 bytes, its
// first six name the family and the seventh the layout version; `name` ("key file") starts every error message.
struct SealedFileKind {
  const char* magic;
  const char* name;
};
// The 32 secret bytes of a sealed file, checked in the order of spec/key-file.md section 3 (messages without a path).
Result<SecretBytes> parse_sealed_secret(std::span<const uint8_t> file_bytes, const SealedFileKind& kind);
// The 80 file bytes holding `secret` (exactly 32 bytes), in secure memory.
Result<SecretBytes> seal_secret(std::span<const uint8_t> secret, const SealedFileKind& kind);

// Private files (key files and other secrets): write creates `path` with mode 0600 and O_EXCL (never overwrites);
// read refuses anything but a regular file with no group or other permission bits, and reads at most `max_bytes`
// (plus one spare byte, so that trailing data shows) into secure memory. `what` ("key file") names the file's kind in
// messages, which name the path but never print its content.
Status write_private_file(const std::string& path, std::span<const uint8_t> bytes, const std::string& what);
Result<SecretBytes> read_private_file(const std::string& path, size_t max_bytes, const std::string& what);

// Key files on disk. The only file I/O in the core library: servers need to load keys without the verifier.
// write: creates the file with mode 0600 and O_EXCL (never overwrites). read: refuses files readable or writable by
// group or others, and anything that does not parse; messages name the file but never print key material.
Status write_key_file(const KeyRing& keys, const std::string& path);
Result<KeyRing> read_key_file(const std::string& path);

}  // namespace telltale
