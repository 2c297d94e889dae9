// Internal: SipHash-2-4-128 of many seeder messages at once. libsodium hashes one message per call and has no batched
// SipHash; the verifier seeds every position of a sequence, whose messages are independent, so SIMD lanes compute
// them together: the same function as libsodium's crypto_shorthash_siphashx24 (spec/prf.md section 2.3), bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "telltale/prf.hpp"

namespace telltale::detail {

enum class SipLanes {
  kScalar,  // libsodium, one message per call
  kAvx2,    // 4 lanes of 64 bits, two vectors in flight
  kAvx512,  // 8 lanes (AVX-512F), two vectors in flight
};

// The fastest kind this CPU runs (checked once).
SipLanes best_sip_lanes();
// True when this build and this CPU can run `lanes`.
bool sip_lanes_supported(SipLanes lanes);

// out[j] = first 12 bytes of SipHash-2-4-128(key, tag || le32(run[j]) || ... || le32(run[j + k - 1])) for j in
// [0, count): the seeder message of the k-id window that starts at run + j. Reads run[0, count + k - 1) only.
// k in [1, kMaxContextWidth]; `lanes` must be supported.
void siphash_runs(SipLanes lanes, const uint8_t* key, uint8_t tag, const int32_t* run, size_t k, size_t count,
                  StepSeed* out);

// The SIMD kernels (siphash_lanes_avx2.cpp, siphash_lanes_avx512.cpp: each built for its instruction set, and
// calling nothing from the standard library). `out` receives 12 bytes per message.
void siphash_runs_avx2(const uint8_t* key, uint8_t tag, const int32_t* run, size_t k, size_t count, uint8_t* out);
void siphash_runs_avx512(const uint8_t* key, uint8_t tag, const int32_t* run, size_t k, size_t count, uint8_t* out);

}  // namespace telltale::detail
