// Keys: generation, key ids, subkeys, and the key file's refusals (permissions, truncation, bit flips, versions).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "telltale/keyring.hpp"

namespace fs = std::filesystem;
using telltale::KeyRing;

namespace {

// A generated key written to `file` in a fresh directory, removed when the test ends.
struct WrittenKey {
  WrittenKey(const std::string& tag, const std::string& file)
      : dir(fs::temp_directory_path() / ("telltale-keyring-test-" + tag + "-" + std::to_string(::getpid()))),
        path(dir / file) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto generated = KeyRing::generate();
    REQUIRE(generated);
    ring = std::make_unique<KeyRing>(std::move(generated).value());
    REQUIRE(telltale::write_key_file(*ring, path.string()));
  }
  WrittenKey(const WrittenKey&) = delete;
  WrittenKey& operator=(const WrittenKey&) = delete;
  ~WrittenKey() { fs::remove_all(dir); }

  fs::path dir;
  fs::path path;
  std::unique_ptr<KeyRing> ring;
};

std::vector<uint8_t> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_all(const fs::path& p, const std::vector<uint8_t>& bytes, mode_t mode = 0600) {
  fs::remove(p);
  {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ::chmod(p.c_str(), mode);
}

}  // namespace

TEST_CASE("a generated key round-trips through its key file with the same key id", "[keys]") {
  const WrittenKey written("roundtrip", "k.key");
  const fs::path& path = written.path;
  const auto& ring = written.ring;
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto loaded = telltale::read_key_file(path.string());
  REQUIRE(loaded);
  CHECK(loaded->key_id_hex() == ring->key_id_hex());
  CHECK(ring->key_id_hex().size() == 64);
  // Never overwrites.
  CHECK_FALSE(telltale::write_key_file(*ring, path.string()));
}

TEST_CASE("two generated keys differ, and subkeys differ by scheme, purpose and index", "[keys]") {
  auto a = KeyRing::generate();
  auto b = KeyRing::generate();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->key_id_hex() != b->key_id_hex());
  uint8_t k1[16], k2[16], k3[16], k4[16];
  REQUIRE(a->derive(telltale::SchemeKind::kKgw, telltale::KeyPurpose::kSeeder, 0, k1));
  REQUIRE(a->derive(telltale::SchemeKind::kGumbel, telltale::KeyPurpose::kSeeder, 0, k2));
  REQUIRE(a->derive(telltale::SchemeKind::kKgw, telltale::KeyPurpose::kKeystream, 0, k3));
  REQUIRE(a->derive(telltale::SchemeKind::kKgw, telltale::KeyPurpose::kSeeder, 1, k4));
  CHECK(std::memcmp(k1, k2, 16) != 0);
  CHECK(std::memcmp(k1, k3, 16) != 0);
  CHECK(std::memcmp(k1, k4, 16) != 0);
  uint8_t too_small[8];
  CHECK_FALSE(a->derive(telltale::SchemeKind::kKgw, telltale::KeyPurpose::kSeeder, 0, too_small));
}

TEST_CASE("a key file readable by group or others is refused with a one-line error", "[keys]") {
  const WrittenKey written("perms", "k.key");
  const fs::path& path = written.path;
  for (mode_t mode : {0640, 0604, 0660, 0644, 0666, 0602}) {
    ::chmod(path.c_str(), mode);
    auto r = telltale::read_key_file(path.string());
    REQUIRE_FALSE(r);
    CHECK(r.status().code() == telltale::StatusCode::kKey);
    CHECK(r.status().message().find("too open") != std::string::npos);
    CHECK(r.status().message().find('\n') == std::string::npos);
  }
  ::chmod(path.c_str(), 0400);
  CHECK(telltale::read_key_file(path.string()));
}

TEST_CASE("truncated, extended, bit-flipped and wrong-version key files are refused", "[keys]") {
  const WrittenKey written("corrupt", "good.key");
  const fs::path& dir = written.dir;
  const fs::path& good = written.path;
  const std::vector<uint8_t> bytes = read_all(good);
  REQUIRE(bytes.size() == telltale::kKeyFileBytes);
  const fs::path bad = dir / "bad.key";

  for (size_t n : {size_t{0}, size_t{1}, size_t{16}, size_t{47}, size_t{79}}) {
    write_all(bad, std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(n)));
    auto r = telltale::read_key_file(bad.string());
    REQUIRE_FALSE(r);
    CHECK(r.status().message().find("truncated") != std::string::npos);
  }
  auto longer = bytes;
  longer.push_back(0);
  write_all(bad, longer);
  auto extended = telltale::read_key_file(bad.string());
  REQUIRE_FALSE(extended);
  CHECK(extended.status().message().find("longer than 80 bytes") != std::string::npos);

  auto other_format = bytes;
  std::memcpy(other_format.data(), "PK\x03\x04", 4);  // e.g. a zip file given by mistake
  CHECK(KeyRing::parse(other_format).status().message().find("bad magic") != std::string::npos);

  // Every single-bit flip anywhere in the file is caught (magic, version, reserved, secret or checksum).
  for (size_t byte = 0; byte < bytes.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      auto flipped = bytes;
      flipped[byte] ^= static_cast<uint8_t>(1u << bit);
      auto r = KeyRing::parse(flipped);
      INFO("byte " << byte << " bit " << bit);
      REQUIRE_FALSE(r);
      CHECK(r.status().message().find('\n') == std::string::npos);
    }
  }

  auto v2 = bytes;
  v2[6] = '2';
  v2[8] = 2;
  write_all(bad, v2);
  auto r = telltale::read_key_file(bad.string());
  REQUIRE_FALSE(r);
  CHECK(r.status().message().find("unsupported key file version: the file is TTKEYv2 with version field 2") !=
        std::string::npos);
  CHECK(r.status().message().find(bad.string()) != std::string::npos);

  CHECK_FALSE(telltale::read_key_file((dir / "missing.key").string()));
  CHECK_FALSE(telltale::read_key_file(dir.string()));  // a directory
}

TEST_CASE("the key id is SHA-256 of a domain tag and the secret, pinned by the test vector", "[keys]") {
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < 32; ++i) secret[i] = static_cast<uint8_t>(i);
  auto ring = KeyRing::from_secret(secret);
  REQUIRE(ring);
  // Independently: printf 'telltale key id v1' ; then bytes 00..1f, through sha256sum.
  std::string cmd = "printf 'telltale key id v1' > /tmp/tt-keyid.bin && printf '";
  for (int i = 0; i < 32; ++i) {
    char b[8];
    std::snprintf(b, sizeof b, "\\%03o", i);
    cmd += b;
  }
  cmd += "' >> /tmp/tt-keyid.bin && sha256sum /tmp/tt-keyid.bin";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char line[256] = {0};
  REQUIRE(std::fgets(line, sizeof line, p) != nullptr);
  ::pclose(p);
  CHECK(std::string(line).substr(0, 64) == ring->key_id_hex());
}
