// KGW generation over a whole row. The per-id rule (value < threshold) is is_green() in kgw.hpp, shared with detection.
#include "schemes/kgw.hpp"

namespace telltale::kgw {
namespace {

// Left-hash: one keystream per step, read sequentially. ids_per_byte ids share a byte (bits <= 8).
template <unsigned kBits>
void bias_row_left(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n) {
  constexpr uint32_t kIdsPerBlock = 128 / kBits;
  constexpr uint32_t kChunkBlocks = 256;  // 4 KiB of keystream per cipher call: stays in L1
  const uint32_t total_blocks = (n + kIdsPerBlock - 1) / kIdsPerBlock;
  const uint32_t threshold = c.layout.threshold;
  const float delta = c.delta;
  uint8_t* ks = ws.blocks.data();
  for (uint32_t b0 = 0; b0 < total_blocks; b0 += kChunkBlocks) {
    const uint32_t nb = total_blocks - b0 < kChunkBlocks ? total_blocks - b0 : kChunkBlocks;
    keys.keystream->blocks(keys.seed, b0, nb, ks);
    const uint32_t id0 = b0 * kIdsPerBlock;
    const uint32_t id1 = (id0 + nb * kIdsPerBlock < n) ? id0 + nb * kIdsPerBlock : n;
    float* r = row + id0;
    const uint32_t count = id1 - id0;
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t v;
      if constexpr (kBits == 32) {
        v = uint32_t{ks[4 * i]} | uint32_t{ks[4 * i + 1]} << 8 | uint32_t{ks[4 * i + 2]} << 16 |
            uint32_t{ks[4 * i + 3]} << 24;
      } else if constexpr (kBits == 16) {
        v = uint32_t{ks[2 * i]} | uint32_t{ks[2 * i + 1]} << 8;
      } else {
        v = (uint32_t{ks[i * kBits / 8]} >> ((i * kBits) & 7)) & ((1u << kBits) - 1);
      }
      // A select, not an add of 0: adding +0.0 would turn -0.0 into +0.0 and break bit-identity with pruned paths.
      r[i] = v < threshold ? r[i] + delta : r[i];
    }
  }
}

}  // namespace

void bias_row(const Config& c, const detail::StepKeys& keys, detail::Workspace& ws, float* row, uint32_t n) {
  if (keys.self_hash) {
    bias_list(c, keys, ws, detail::DenseList{row, n}, n);
    return;
  }
  switch (keys.bits) {
    case 1: bias_row_left<1>(c, keys, ws, row, n); break;
    case 2: bias_row_left<2>(c, keys, ws, row, n); break;
    case 4: bias_row_left<4>(c, keys, ws, row, n); break;
    case 8: bias_row_left<8>(c, keys, ws, row, n); break;
    case 16: bias_row_left<16>(c, keys, ws, row, n); break;
    default: bias_row_left<32>(c, keys, ws, row, n); break;
  }
}

}  // namespace telltale::kgw
