// The integrity checks of the verifier's binary files: every single-bit change and every truncation of a partial
// result or a context filter is refused naming the file, and `telltale merge` never answers from a damaged file.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "radio/context_filter.hpp"
#include "run_command.hpp"
#include "score/partial_file.hpp"
#include "score/partial_merge.hpp"
#include "vector_files.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::ScratchDir;

telltale::Status read_partial(const std::string& bytes) {
  std::istringstream in(bytes);
  auto r = telltale::score::read_partial_stream(in, "t.part");
  return r.is_ok() ? telltale::Status::ok() : r.status();
}

telltale::Status read_filter(const std::string& bytes) {
  std::istringstream in(bytes);
  auto r = telltale::radio::ContextFilter::read(in, "t.ttcf");
  return r.is_ok() ? telltale::Status::ok() : r.status();
}

// The small partial file of the test vectors: one KGW analysis, two documents, three tuples.
std::string partial_bytes() { return telltale::test::vector_file_bytes("partial_file"); }

// Every single-bit change of `bytes` and every proper prefix of it is refused by `read`, naming `name`.
template <class Read>
void check_every_bit_flip_and_truncation_refused(const std::string& bytes, const std::string& name, Read read) {
  REQUIRE(read(bytes).is_ok());
  size_t refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string changed = bytes;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      const telltale::Status s = read(changed);
      if (s.is_ok() || s.message().rfind(name + ": ", 0) != 0) {
        FAIL("bit " << bit << " of byte " << i << " was " << (s.is_ok() ? "accepted" : "refused as: " + s.message()));
      }
      ++refused;
    }
  }
  CHECK(refused == bytes.size() * 8);
  for (size_t n = 0; n < bytes.size(); ++n) {
    const telltale::Status s = read(bytes.substr(0, n));
    if (s.is_ok() || s.message().rfind(name + ": ", 0) != 0) FAIL("the first " << n << " bytes were accepted");
  }
  const telltale::Status extended = read(bytes + '\0');
  CHECK(!extended.is_ok());
}

}  // namespace

TEST_CASE("every single-bit change and every truncation of a partial file is refused", "[partial][integrity]") {
  const std::string bytes = partial_bytes();
  REQUIRE(bytes.size() > 500);
  check_every_bit_flip_and_truncation_refused(bytes, "t.part", read_partial);
}

TEST_CASE("a partial file ends with the SHA-256 of every byte before it", "[partial][integrity]") {
  const std::string bytes = partial_bytes();
  REQUIRE(bytes.rfind("TTPART2\n", 0) == 0);
  const std::string body = bytes.substr(0, bytes.size() - 32);
  CHECK(body.substr(body.size() - 8) == std::string("TTEND\n\0\0", 8));
  const std::string expected = telltale::input::sha256_hex(body);
  std::string stored;
  for (size_t i = bytes.size() - 32; i < bytes.size(); ++i) {
    char h[3];
    std::snprintf(h, sizeof h, "%02x", static_cast<unsigned char>(bytes[i]));
    stored += h;
  }
  CHECK(stored == expected);
}

TEST_CASE("a partial file of the first format, without checksum, is refused with what to do", "[partial][integrity]") {
  std::string old = partial_bytes();
  old[6] = '1';
  const telltale::Status s = read_partial(old);
  REQUIRE(!s.is_ok());
  CHECK(s.message() == "t.part: old partial-result format TTPART1 (no checksum); re-run detect --emit-partial");
}

TEST_CASE("a well-formed change of a tuple's score is caught by the checksum alone", "[partial][integrity]") {
  std::string bytes = partial_bytes();
  // The last tuple's score bits are the 8 bytes before the trailer: 1.0 becomes 1.0000000000000002, still in range.
  const size_t score_at = bytes.size() - 32 - 8 - 8;
  bytes[score_at] = static_cast<char>(bytes[score_at] ^ 1);
  const telltale::Status s = read_partial(bytes);
  REQUIRE(!s.is_ok());
  CHECK(s.message() == "t.part: damaged partial result (its SHA-256 checksum does not match its bytes)");
}

TEST_CASE("merge refuses a damaged partial file in one line naming it, streaming or not", "[partial][integrity][cli]") {
  ScratchDir dir("integrity-merge");
  std::string bytes = partial_bytes();
  dir.file("a.part", bytes);
  const auto good = telltale::score::merge_partial_files({dir.path("a.part")});
  REQUIRE(good.is_ok());
  const size_t score_at = bytes.size() - 32 - 8 - 8;
  bytes[score_at] = static_cast<char>(bytes[score_at] ^ 1);
  dir.file("bad.part", bytes);
  const auto streamed = telltale::score::merge_partial_files({dir.path("a.part"), dir.path("bad.part")});
  REQUIRE(!streamed.is_ok());
  CHECK(streamed.status().message().find(dir.path("bad.part") + ": damaged") == 0);
  const std::string t = telltale::test::telltale_binary();
  for (const std::string& extra : {std::string(), " --emit-partial " + dir.path("m.part")}) {
    const auto r = telltale::test::run_command(t + " merge " + dir.path("a.part") + " " + dir.path("bad.part") + extra);
    INFO("merge" << extra << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "telltale: error: " + dir.path("bad.part") +
                       ": damaged partial result (its SHA-256 checksum does not match its bytes)\n");
  }
  CHECK(!std::filesystem::exists(dir.path("m.part")));
}

TEST_CASE("every single-bit change and every truncation of a context filter is refused", "[radio][integrity]") {
  const std::string bytes = telltale::test::vector_file_bytes("context_filter");
  REQUIRE(bytes.size() == 40 + 8 + 32);
  check_every_bit_flip_and_truncation_refused(bytes, "t.ttcf", read_filter);
}
