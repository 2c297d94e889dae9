// The seeder's SIMD SipHash lanes against libsodium: every lane kind this CPU runs, every message length the seeder
// makes (left-hash and self-hash, h = 1..kMaxContextWidth), every count modulo the lane width.
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "prf/siphash_lanes.hpp"
#include "telltale/prf.hpp"

using namespace telltale;

namespace {

std::vector<int32_t> random_ids(std::mt19937_64& rng, size_t n) {
  std::vector<int32_t> v(n);
  for (auto& x : v) x = static_cast<int32_t>(static_cast<uint32_t>(rng()));  // any 32-bit id, negative ones too
  return v;
}

}  // namespace

TEST_CASE("the SipHash lanes give libsodium's seed for every seeder message length and count", "[prf][lanes]") {
  std::mt19937_64 rng(2026);
  uint8_t key[kSeederKeyBytes];
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  for (const auto lanes : {detail::SipLanes::kAvx2, detail::SipLanes::kAvx512}) {
    if (!detail::sip_lanes_supported(lanes)) continue;  // this build or this CPU lacks them: libsodium serves alone
    for (size_t k = 1; k <= kMaxContextWidth; ++k) {
      for (const uint8_t tag : {uint8_t{'L'}, uint8_t{'S'}}) {
        for (const size_t count :
             {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{7}, size_t{8}, size_t{9}, size_t{15},
              size_t{16}, size_t{17}, size_t{23}, size_t{31}, size_t{32}, size_t{33}, size_t{496}, size_t{1000}}) {
          // Exactly the ids the windows need: a load past the last window reads outside the allocation (which an
          // address-sanitizer build would report).
          const std::vector<int32_t> run = random_ids(rng, count + k - 1);
          std::vector<StepSeed> want(count), got(count);
          detail::siphash_runs(detail::SipLanes::kScalar, key, tag, run.data(), k, count, want.data());
          detail::siphash_runs(lanes, key, tag, run.data(), k, count, got.data());
          INFO("lanes " << static_cast<int>(lanes) << ", k " << k << ", tag " << tag << ", count " << count);
          for (size_t j = 0; j < count; ++j) {
            INFO("message " << j << " differs from libsodium's");
            REQUIRE(got[j] == want[j]);
          }
        }
      }
    }
  }
}

TEST_CASE("seed_positions gives the seed of one left_hash or self_hash call per position", "[prf][lanes]") {
  std::mt19937_64 rng(7);
  uint8_t key[kSeederKeyBytes];
  for (auto& b : key) b = static_cast<uint8_t>(rng());
  const Seeder seeder(std::span<const uint8_t, kSeederKeyBytes>(key, kSeederKeyBytes));
  const std::vector<int32_t> tokens = random_ids(rng, 300);
  for (uint32_t h = 1; h <= kMaxContextWidth; ++h) {
    for (const bool self : {false, true}) {
      const size_t w = self ? h - 1 : h;
      for (const size_t first : {w, w + 1, size_t{37}}) {
        std::vector<StepSeed> seeds(tokens.size() - first);
        seeder.seed_positions(tokens, first, h, self, seeds);
        for (size_t i = first; i < tokens.size(); ++i) {
          const std::span<const int32_t> window(tokens.data() + i - w, w);
          INFO("h " << h << (self ? " self-hash" : " left-hash") << ", first " << first << ", position " << i);
          REQUIRE(seeds[i - first] == (self ? seeder.self_hash(window, tokens[i]) : seeder.left_hash(window)));
        }
      }
    }
  }
}
