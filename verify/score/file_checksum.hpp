// The running SHA-256 that closes telltale's binary files (partial results, spec/partial-results.md section 6;
// context filters, spec/radioactivity.md section 4): fed every byte written or read, compared with the stored one.
#pragma once

#include <array>
#include <cstddef>
#include <memory>

#include "telltale/status.hpp"

namespace telltale::score {

class FileChecksum {
 public:
  static constexpr size_t kBytes = 32;
  using Digest = std::array<unsigned char, kBytes>;

  FileChecksum();
  ~FileChecksum();
  FileChecksum(FileChecksum&&) noexcept;
  FileChecksum& operator=(FileChecksum&&) noexcept;

  void update(const void* bytes, size_t n) noexcept;
  // The SHA-256 of every byte given so far; an internal error if OpenSSL failed at any step.
  Result<Digest> digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace telltale::score
