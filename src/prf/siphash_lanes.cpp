// Which SipHash lanes this CPU runs, and the libsodium path for the others.
#include "prf/siphash_lanes.hpp"

#include <sodium.h>

#include <bit>
#include <cstring>

namespace telltale::detail {

#if defined(TELLTALE_SIPHASH_LANES)
// The kernels load the ids' bytes as message bytes: that is le32 only on a little-endian CPU.
static_assert(std::endian::native == std::endian::little);
#endif
static_assert(sizeof(StepSeed) == 12);

bool sip_lanes_supported(SipLanes lanes) {
  switch (lanes) {
    case SipLanes::kScalar: return true;
#if defined(TELLTALE_SIPHASH_LANES)
    case SipLanes::kAvx2: return __builtin_cpu_supports("avx2");
    case SipLanes::kAvx512: return __builtin_cpu_supports("avx512f");
#endif
    default: return false;
  }
}

SipLanes best_sip_lanes() {
  static const SipLanes best = [] {
#if defined(TELLTALE_SIPHASH_LANES)
    __builtin_cpu_init();  // this may run before the constructor that fills in the CPU model (a static's initialiser)
#endif
    if (sip_lanes_supported(SipLanes::kAvx512)) return SipLanes::kAvx512;
    if (sip_lanes_supported(SipLanes::kAvx2)) return SipLanes::kAvx2;
    return SipLanes::kScalar;
  }();
  return best;
}

void siphash_runs(SipLanes lanes, const uint8_t* key, uint8_t tag, const int32_t* run, size_t k, size_t count,
                  StepSeed* out) {
  static_assert(crypto_shorthash_siphashx24_BYTES == 16 && crypto_shorthash_siphashx24_KEYBYTES == kSeederKeyBytes);
  if (count == 0) return;
  switch (lanes) {
#if defined(TELLTALE_SIPHASH_LANES)
    case SipLanes::kAvx2: return siphash_runs_avx2(key, tag, run, k, count, reinterpret_cast<uint8_t*>(out));
    case SipLanes::kAvx512: return siphash_runs_avx512(key, tag, run, k, count, reinterpret_cast<uint8_t*>(out));
#endif
    default: break;
  }
  uint8_t msg[1 + 4 * kMaxContextWidth];
  msg[0] = tag;
  for (size_t j = 0; j < count; ++j) {
    for (size_t i = 0; i < k; ++i) {
      const auto u = static_cast<uint32_t>(run[j + i]);
      for (size_t b = 0; b < 4; ++b) msg[1 + 4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
    }
    uint8_t h[16];
    crypto_shorthash_siphashx24(h, msg, 1 + 4 * k, key);
    std::memcpy(out[j].nonce.data(), h, out[j].nonce.size());
  }
}

}  // namespace telltale::detail
