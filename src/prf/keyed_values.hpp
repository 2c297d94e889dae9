// Internal: reading the keystream id by id. Keystream block i is AES(nonce || be32(i)); the value of an id at `bits`
// per id sits at bit offset id * bits (spec/prf.md). The Keystream's gather and the hook's list paths read through
// here.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "telltale/prf.hpp"

namespace telltale::detail {

// The counter blocks of one step seed, written with whole-word stores: the hot paths build one block per AES block
// they encrypt, and building it byte by byte out of line cost more than the AES itself.
class CounterBlocks {
 public:
  explicit CounterBlocks(const StepSeed& seed) {
    std::memcpy(&nonce_lo_, seed.nonce.data(), 8);
    std::memcpy(&nonce_hi_, seed.nonce.data() + 8, 4);
  }
  // Writes nonce || be32(counter) at `out` (16 bytes).
  void write(uint32_t counter, uint8_t* out) const {
    const uint8_t be[4] = {static_cast<uint8_t>(counter >> 24), static_cast<uint8_t>(counter >> 16),
                           static_cast<uint8_t>(counter >> 8), static_cast<uint8_t>(counter)};
    std::memcpy(out, &nonce_lo_, 8);
    std::memcpy(out + 8, &nonce_hi_, 4);
    std::memcpy(out + 12, be, 4);
  }

 private:
  uint64_t nonce_lo_;  // nonce bytes 0..7, in memory order
  uint32_t nonce_hi_;  // nonce bytes 8..11
};

// The value of `id` read from the 16 bytes of its keystream block, block_of(id, kBits): extract_value with the width
// fixed at compile time, so that the read is a load, a shift and a mask.
template <unsigned kBits>
uint32_t value_in_block(const uint8_t* block, uint32_t id) {
  const uint32_t bit = (id * kBits) & 127;  // the offset inside the block: id * kBits mod 2^32 keeps the low 7 bits
  const uint8_t* p = block + bit / 8;
  if constexpr (kBits == 32) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  } else if constexpr (kBits == 16) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8;
  } else {
    return (uint32_t{p[0]} >> (bit & 7)) & ((1u << kBits) - 1);
  }
}

// Calls use(i, value) for i in [0, n), value = the kBits-wide value of id_of(i) under counters_of(i) (a CounterBlocks:
// the step's, or the id's own for self-hash). One keystream block per id, `chunk` ids per cipher call through
// `blocks` (16 * chunk bytes). Any uint32 id has a block, so ids outside the vocabulary need no special case here.
template <unsigned kBits, typename CountersOf, typename IdOf, typename Use>
void read_values(Keystream& ks, size_t n, CountersOf counters_of, IdOf id_of, Use use, uint8_t* blocks, size_t chunk) {
  for (size_t start = 0; start < n; start += chunk) {
    const size_t m = n - start < chunk ? n - start : chunk;
    for (size_t i = 0; i < m; ++i) {
      counters_of(start + i).write(block_of(id_of(start + i), kBits), blocks + 16 * i);
    }
    ks.encrypt_blocks(blocks, m);
    for (size_t i = 0; i < m; ++i) use(start + i, value_in_block<kBits>(blocks + 16 * i, id_of(start + i)));
  }
}

// Calls f(std::integral_constant<unsigned, kBits>{}) with kBits = bits, for bits in {1, 2, 4, 8, 16, 32}: the switch
// on the width happens once per call, not once per id.
template <typename F>
void with_bits(unsigned bits, F f) {
  switch (bits) {
    case 1: return f(std::integral_constant<unsigned, 1>{});
    case 2: return f(std::integral_constant<unsigned, 2>{});
    case 4: return f(std::integral_constant<unsigned, 4>{});
    case 8: return f(std::integral_constant<unsigned, 8>{});
    case 16: return f(std::integral_constant<unsigned, 16>{});
    default: return f(std::integral_constant<unsigned, 32>{});
  }
}

}  // namespace telltale::detail
