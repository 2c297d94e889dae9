// The teacher-context filter: a Bloom filter of every context window the teacher watermarked, so that a suspect is
// scored only on tuples whose context carries our watermark. Sized for billions of contexts (about 1.8 GB for 1e9
// contexts at a false-positive rate of 1e-3). Why false positives leave the test exact: spec/radioactivity.md.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::radio {

// The unkeyed 64-bit fingerprint of a context window (the window's ids, oldest first). Shared by the filter and the
// scorer's record of windows already seen.
uint64_t context_hash(std::span<const int32_t> window) noexcept;

class ContextFilter {
 public:
  static constexpr uint64_t kMaxBits = uint64_t{1} << 40;  // 128 GiB of filter at most
  static constexpr uint32_t kMaxProbes = 32;

  // A filter for up to `expected_contexts` distinct windows of `window_size` ids each, with a false-positive rate of
  // about `target_fpr` (in (0, 0.5]) when that many are inserted: m = -n ln(p) / ln(2)^2 bits, k = m/n ln 2 probes.
  static Result<ContextFilter> create(uint32_t window_size, uint64_t expected_contexts, double target_fpr);
  // The bits such a filter holds (its memory is bits / 8 bytes), without allocating them.
  static Result<uint64_t> bits_for(uint64_t expected_contexts, double target_fpr);

  uint32_t window_size() const { return window_size_; }
  uint64_t bits() const { return bits_; }
  uint32_t probes() const { return probes_; }
  uint64_t inserted() const { return inserted_; }  // insertions that set at least one new bit (~ distinct windows)

  void insert(std::span<const int32_t> window) noexcept { insert_hash(context_hash(window)); }
  bool contains(std::span<const int32_t> window) const noexcept { return contains_hash(context_hash(window)); }
  void insert_hash(uint64_t h) noexcept;
  bool contains_hash(uint64_t h) const noexcept;

  // The probability that a window never inserted passes: (fraction of bits set)^k, the rate for k independent
  // uniform probes, computed from the filter as it is.
  double false_positive_rate() const noexcept;

  // The file format (spec/radioactivity.md, section 4): header, bit words, SHA-256 of everything before it.
  Status write(const std::string& path) const;
  static Result<ContextFilter> read(const std::string& path);
  static Result<ContextFilter> read(std::istream& in, const std::string& name);

 private:
  ContextFilter() = default;
  uint32_t window_size_ = 0;
  uint32_t probes_ = 0;
  uint64_t bits_ = 0;
  uint64_t inserted_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace telltale::radio
