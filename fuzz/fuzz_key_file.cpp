// Fuzzes KeyRing::parse, the key-file reader: any byte string is either refused with a one-line message that holds
// none of its bytes' secret part, or is a well-formed v1 file whose re-serialisation gives back the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "telltale/keyring.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  auto ring = telltale::KeyRing::parse(bytes);
  if (!ring) {
    const std::string& message = ring.status().message();
    FUZZ_CHECK(!message.empty());
    FUZZ_CHECK(message.find('\n') == std::string::npos);
    FUZZ_CHECK(ring.status().code() == telltale::StatusCode::kKey);
    return 0;
  }
  // Accepted: it must be exactly a valid file, and writing it back must reproduce it bit for bit.
  FUZZ_CHECK(size == telltale::kKeyFileBytes);
  auto again = ring->serialize();
  FUZZ_CHECK(again.is_ok());
  FUZZ_CHECK(std::memcmp(again->data(), data, size) == 0);
  return 0;
}
