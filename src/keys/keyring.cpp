// KeyRing: master secret in libsodium secure memory, its SHA-256 key id, subkeys by crypto_kdf, and the key-file bytes.
#include "telltale/keyring.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "telltale/scheme_table.hpp"

namespace telltale {
namespace {

constexpr char kKeyFileMagic[8] = {'T', 'T', 'K', 'E', 'Y', 'v', '1', '\n'};
constexpr char kKeyIdDomain[] = "telltale key id v1";

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

bool sha256(std::span<const uint8_t> a, std::span<const uint8_t> b, uint8_t out[32]) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  unsigned int len = 0;
  const bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 && EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out, &len) == 1;
  EVP_MD_CTX_free(ctx);
  return ok && len == 32;
}

void put_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

Result<SecretBytes> SecretBytes::allocate(size_t size) {
  if (!sodium_ready()) return Status{StatusCode::kInternal, "libsodium failed to initialise"};
  void* p = sodium_malloc(size);
  if (p == nullptr) return Status{StatusCode::kNoMemory, "cannot allocate secure memory"};
  SecretBytes s;
  s.data_ = static_cast<uint8_t*>(p);
  s.size_ = size;
  sodium_memzero(s.data_, size);
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  if (data_ != nullptr) sodium_free(data_);  // sodium_free wipes before unmapping
}

Result<KeyRing> KeyRing::generate() {
  auto secret = SecretBytes::allocate(kMasterSecretBytes);
  if (!secret) return secret.status();
  crypto_kdf_keygen(secret->data());
  return from_secret(secret->bytes());  // a copy in locked memory; this one is wiped when freed
}

Result<KeyRing> KeyRing::from_secret(std::span<const uint8_t> secret) {
  if (secret.size() != kMasterSecretBytes) return key_error("a master secret is exactly 32 bytes");
  auto buf = SecretBytes::allocate(kMasterSecretBytes);
  if (!buf) return buf.status();
  std::memcpy(buf->data(), secret.data(), kMasterSecretBytes);
  KeyRing ring;
  ring.secret_ = std::move(buf).value();
  if (!sha256({reinterpret_cast<const uint8_t*>(kKeyIdDomain), sizeof kKeyIdDomain - 1}, ring.secret_.bytes(),
              ring.key_id_.data())) {
    return Status{StatusCode::kInternal, "SHA-256 failed"};
  }
  return ring;
}

const SealedFileKind kKeyFileKind{kKeyFileMagic, "key file"};

// Layout (spec/key-file.md): magic[8] | version u32 LE | reserved u32 (0) | secret[32] | SHA-256 of bytes 0..47.
Result<SecretBytes> parse_sealed_secret(std::span<const uint8_t> b, const SealedFileKind& kind) {
  // The magic first, so that a file of another kind is called that, whatever its size. The first six bytes
  // ("TTKEYv") name the family; the version digit and the version field name the layout.
  constexpr size_t kFamily = 6;
  const std::string what = kind.name;
  if (!b.empty() && std::memcmp(b.data(), kind.magic, std::min(b.size(), kFamily)) != 0) {
    return key_error("not a telltale " + what + " (bad magic)");
  }
  if (b.size() < kKeyFileBytes) {
    return key_error(what + " is truncated (" + std::to_string(b.size()) + " of " + std::to_string(kKeyFileBytes) +
                     " bytes)");
  }
  if (b.size() > kKeyFileBytes) {
    return key_error(what + " is longer than " + std::to_string(kKeyFileBytes) + " bytes (trailing data)");
  }
  const uint32_t version = get_le32(b.data() + 8);
  if (std::memcmp(b.data(), kind.magic, 8) != 0 || version != kKeyFileVersion) {
    const char letter = std::isalnum(b[6]) ? static_cast<char>(b[6]) : '?';
    const std::string family(kind.magic, kFamily);
    return key_error("unsupported " + what + " version: the file is " + family + letter + " with version field " +
                     std::to_string(version) + "; this build reads " + family + kind.magic[6] + " with version field " +
                     std::to_string(kKeyFileVersion));
  }
  if (get_le32(b.data() + 12) != 0) return key_error(what + " is corrupt (reserved field is not zero)");
  uint8_t digest[32];
  if (!sha256(b.subspan(0, 48), {}, digest)) return Status{StatusCode::kInternal, "SHA-256 failed"};
  const bool match = sodium_memcmp(digest, b.data() + 48, 32) == 0;
  sodium_memzero(digest, sizeof digest);
  if (!match) return key_error(what + " is corrupt (checksum mismatch)");
  auto secret = SecretBytes::allocate(kMasterSecretBytes);
  if (!secret) return secret.status();
  std::memcpy(secret->data(), b.data() + 16, kMasterSecretBytes);
  return secret;
}

Result<SecretBytes> seal_secret(std::span<const uint8_t> secret, const SealedFileKind& kind) {
  if (secret.size() != kMasterSecretBytes) return invalid_argument("a sealed secret is exactly 32 bytes");
  auto out = SecretBytes::allocate(kKeyFileBytes);
  if (!out) return out.status();
  uint8_t* p = out->data();
  std::memcpy(p, kind.magic, 8);
  put_le32(p + 8, kKeyFileVersion);
  put_le32(p + 12, 0);
  std::memcpy(p + 16, secret.data(), kMasterSecretBytes);
  if (!sha256({p, 48}, {}, p + 48)) return Status{StatusCode::kInternal, "SHA-256 failed"};
  return out;
}

Result<KeyRing> KeyRing::parse(std::span<const uint8_t> b) {
  auto secret = parse_sealed_secret(b, kKeyFileKind);
  if (!secret) return secret.status();
  return from_secret(secret->bytes());
}

Result<SecretBytes> KeyRing::serialize() const { return seal_secret(secret_.bytes(), kKeyFileKind); }

std::string KeyRing::key_id_hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * kKeyIdBytes);
  for (uint8_t c : key_id_) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

Status KeyRing::derive(SchemeKind scheme, KeyPurpose purpose, uint64_t index, std::span<uint8_t> out) const {
  // The KDF context names the scheme (its scheme-table entry holds it); the 64-bit subkey id is
  // purpose << 48 | index (spec/prf.md).
  const SchemeInfo* s = find_scheme(scheme);
  if (s == nullptr || std::strlen(s->kdf_context) != crypto_kdf_CONTEXTBYTES) return invalid_argument("unknown scheme");
  if (out.size() < crypto_kdf_BYTES_MIN || out.size() > crypto_kdf_BYTES_MAX) {
    return invalid_argument("subkeys are 16 to 64 bytes");
  }
  if (index >= (uint64_t{1} << 48)) return invalid_argument("subkey index out of range");
  const uint64_t subkey_id = static_cast<uint64_t>(purpose) << 48 | index;
  if (crypto_kdf_derive_from_key(out.data(), out.size(), subkey_id, s->kdf_context, secret_.data()) != 0) {
    return Status{StatusCode::kInternal, "key derivation failed"};
  }
  return Status::ok();
}

}  // namespace telltale
