// For fuzz targets of checksummed files (partial results, context filters): the input with its last 32 bytes replaced
// by the SHA-256 of the bytes before them, so that mutated inputs also reach the parser behind the checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "score/file_checksum.hpp"

inline std::string with_fixed_checksum(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  constexpr size_t kBytes = telltale::score::FileChecksum::kBytes;
  if (bytes.size() < kBytes) return bytes;
  telltale::score::FileChecksum sum;
  sum.update(bytes.data(), bytes.size() - kBytes);
  auto digest = sum.digest();
  if (digest.is_ok()) {
    bytes.replace(bytes.size() - kBytes, kBytes, reinterpret_cast<const char*>(digest->data()), kBytes);
  }
  return bytes;
}
