// Shared helpers of the verifier tests: fixed keys, detectors and a scratch directory.
#pragma once

#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/scheme.hpp"

namespace telltale::test {

// A key from a fixed secret: byte i is seed + i.
inline KeyRing fixed_key(uint8_t seed) {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(seed + i);
  auto k = KeyRing::from_secret(secret);
  REQUIRE(k.is_ok());
  return std::move(k).value();
}

// A key file at `path` holding fixed_key(seed): a test that asserts a detection or an attribution of generated text
// then reads the same texts every run, not a fresh key's random draw.
inline void write_fixed_key(uint8_t seed, const std::string& path) { REQUIRE(write_key_file(fixed_key(seed), path)); }

inline Detector make_detector(const KeyRing& keys, SchemeKind scheme, uint32_t vocab = 512) {
  auto d = Detector::create(keys, default_params(scheme, vocab));
  REQUIRE(d.is_ok());
  return std::move(d).value();
}

// A fresh directory under /tmp, removed when the test ends.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    std::string pattern = (std::filesystem::temp_directory_path() / ("telltale-verify-" + tag + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;  // a test may have taken the directory's permissions away
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name, std::string_view bytes) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace telltale::test
