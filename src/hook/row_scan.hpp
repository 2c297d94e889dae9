// Internal: scans of a dense logits row for the few entries that matter (the finite ones, the largest, those above a
// floor), 8 (AVX2) or 4 (SSE2) entries per compare and one branch per 32 entries, instead of a branch per entry.
#pragma once

#include <cstddef>
#include <cstdint>

namespace telltale::detail {

// What scan_range found: `count` indices written, `next` the index to resume from (end when the range was scanned to
// the end; otherwise the first hit not written), `max` the largest value written, its first occurrence winning ties
// (-inf when none).
struct RangeHits {
  size_t count = 0;
  size_t next = 0;
  float max = 0;
};

// Writes, in increasing order, the indices i in [begin, end) with lo <= row[i] <= hi (never a NaN) to out, stopping
// once `cap` are written and another hit is found. lo <= hi.
RangeHits scan_range(const float* row, size_t begin, size_t end, float lo, float hi, uint32_t* out, size_t cap);

// The largest row[i], i in [0, n), with lo <= row[i] <= hi; -inf when there is none.
float max_in_range(const float* row, size_t n, float lo, float hi);

}  // namespace telltale::detail
