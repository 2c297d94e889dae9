// Bloom filter of teacher context windows, with Kirsch-Mitzenmacher double hashing (g_i = h1 + i h2, "Less hashing,
// same performance", ESA 2006) over a 64-bit window fingerprint, and its checksummed file format.
#include "radio/context_filter.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>

#include "input/input_stream.hpp"
#include "score/file_checksum.hpp"
#include "score/tuple_hash.hpp"
#include "telltale/new_file.hpp"

namespace telltale::radio {
namespace {

constexpr char kMagic[8] = {'T', 'T', 'C', 'T', 'X', 'F', '0', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 4 * 4 + 8 * 2;  // magic, version, window, probes, reserved, bits, inserted
constexpr uint32_t kMaxWindow = 64;

// The position in [0, m) of a 64-bit value (Lemire's multiply-shift range reduction).
uint64_t reduce(uint64_t x, uint64_t m) {
  __extension__ typedef unsigned __int128 U128;
  return static_cast<uint64_t>((static_cast<U128>(x) * m) >> 64);
}

uint64_t second_hash(uint64_t h1) { return score::mum(h1 ^ 0x9e3779b97f4a7c15ull, 0xd6e8feb86659fd93ull) | 1; }

void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t get_u32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// Little-endian bytes of the words [first, first + count).
void words_to_bytes(const uint64_t* words, size_t count, std::vector<unsigned char>& out) {
  out.resize(count * 8);
  for (size_t i = 0; i < count; ++i)
    for (int b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<unsigned char>(words[i] >> (8 * b));
}

constexpr size_t kChunkWords = size_t{1} << 16;

}  // namespace

uint64_t context_hash(std::span<const int32_t> window) noexcept {
  // A tuple fingerprint whose "token" is -1, an id no vocabulary has: the window alone, in the same well-tested mix.
  return score::tuple_hash(window, -1);
}

Result<uint64_t> ContextFilter::bits_for(uint64_t expected_contexts, double target_fpr) {
  if (!(target_fpr > 0 && target_fpr <= 0.5)) return invalid_argument("the filter's target rate must be in (0, 0.5]");
  const double n = static_cast<double>(expected_contexts < 1 ? 1 : expected_contexts);
  const double ln2 = std::log(2.0);
  const double m = std::ceil(-n * std::log(target_fpr) / (ln2 * ln2));
  if (!(m <= static_cast<double>(kMaxBits)))
    return invalid_argument("a filter for " + std::to_string(expected_contexts) + " contexts at rate " +
                            std::to_string(target_fpr) + " needs more than 2^40 bits");
  return std::max<uint64_t>(64, (static_cast<uint64_t>(m) + 63) / 64 * 64);
}

Result<ContextFilter> ContextFilter::create(uint32_t window_size, uint64_t expected_contexts, double target_fpr) {
  if (window_size == 0 || window_size > kMaxWindow)
    return invalid_argument("the filter's window size must be in [1, " + std::to_string(kMaxWindow) + "]");
  auto bits = bits_for(expected_contexts, target_fpr);
  if (!bits) return bits.status();
  const double n = static_cast<double>(expected_contexts < 1 ? 1 : expected_contexts);
  ContextFilter f;
  f.window_size_ = window_size;
  f.bits_ = *bits;
  const double k = std::round(static_cast<double>(f.bits_) / n * std::log(2.0));
  f.probes_ = static_cast<uint32_t>(std::clamp(k, 1.0, static_cast<double>(kMaxProbes)));
  f.words_.assign(f.bits_ / 64, 0);
  return f;
}

void ContextFilter::insert_hash(uint64_t h1) noexcept {
  const uint64_t h2 = second_hash(h1);
  bool fresh = false;
  uint64_t g = h1;
  for (uint32_t i = 0; i < probes_; ++i, g += h2) {
    const uint64_t bit = reduce(g, bits_);
    const uint64_t mask = uint64_t{1} << (bit & 63);
    fresh |= (words_[bit >> 6] & mask) == 0;
    words_[bit >> 6] |= mask;
  }
  if (fresh) ++inserted_;
}

bool ContextFilter::contains_hash(uint64_t h1) const noexcept {
  const uint64_t h2 = second_hash(h1);
  uint64_t g = h1;
  for (uint32_t i = 0; i < probes_; ++i, g += h2) {
    const uint64_t bit = reduce(g, bits_);
    if ((words_[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

double ContextFilter::false_positive_rate() const noexcept {
  uint64_t set = 0;
  for (const uint64_t w : words_) set += static_cast<uint64_t>(std::popcount(w));
  if (bits_ == 0) return 0;
  return std::pow(static_cast<double>(set) / static_cast<double>(bits_), static_cast<double>(probes_));
}

Status ContextFilter::write(const std::string& path) const {
  std::string header(kMagic, sizeof kMagic);
  put_u32(header, kVersion);
  put_u32(header, window_size_);
  put_u32(header, probes_);
  put_u32(header, 0);
  put_u64(header, bits_);
  put_u64(header, inserted_);
  auto file = NewFile::create(path, FileAccess::kShared);
  if (!file) return file.status();
  std::ostream& out = file->stream();
  score::FileChecksum sum;
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  sum.update(header.data(), header.size());
  std::vector<unsigned char> bytes;
  for (size_t at = 0; at < words_.size(); at += kChunkWords) {
    const size_t count = std::min(kChunkWords, words_.size() - at);
    words_to_bytes(words_.data() + at, count, bytes);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    sum.update(bytes.data(), bytes.size());
  }
  auto digest = sum.digest();
  if (!digest) return digest.status();
  out.write(reinterpret_cast<const char*>(digest->data()), static_cast<std::streamsize>(digest->size()));
  return file->commit();
}

Result<ContextFilter> ContextFilter::read(const std::string& path) {
  auto in = input::open_input_stream(path, "the context filter", "a context filter");
  if (!in) return in.status();
  try {  // the stream's buffer reports a read error by throwing
    return read(**in, path);
  } catch (const std::exception& e) {
    return io_error(path + ": cannot read the context filter: " + e.what());
  }
}

Result<ContextFilter> ContextFilter::read(std::istream& in, const std::string& name) {
  auto bad = [&name](const std::string& why) {
    return invalid_argument(name + ": not a telltale context filter: " + why);
  };
  std::array<unsigned char, kHeaderBytes> h{};
  in.read(reinterpret_cast<char*>(h.data()), static_cast<std::streamsize>(h.size()));
  if (in.gcount() < 8 || std::memcmp(h.data(), kMagic, 8) != 0) return bad("bad magic");
  if (static_cast<size_t>(in.gcount()) < h.size()) return bad("truncated header");
  const uint32_t version = get_u32(&h[8]);
  if (version != kVersion)
    return unsupported(name + ": context filter version " + std::to_string(version) + " (this build reads 1)");
  ContextFilter f;
  f.window_size_ = get_u32(&h[12]);
  f.probes_ = get_u32(&h[16]);
  const uint32_t reserved = get_u32(&h[20]);
  f.bits_ = get_u64(&h[24]);
  f.inserted_ = get_u64(&h[32]);
  if (f.window_size_ == 0 || f.window_size_ > kMaxWindow) return bad("window size out of range");
  if (f.probes_ == 0 || f.probes_ > kMaxProbes) return bad("probe count out of range");
  if (reserved != 0) return bad("reserved field is not zero");
  if (f.bits_ < 64 || f.bits_ % 64 != 0 || f.bits_ > kMaxBits) return bad("bit count out of range");
  score::FileChecksum sum;
  sum.update(h.data(), h.size());
  // The words are read chunk by chunk, so a header claiming more bits than the file holds fails at the end of the
  // file, having allocated at most what was there.
  std::vector<unsigned char> bytes(kChunkWords * 8);
  const uint64_t total = f.bits_ / 64;
  while (f.words_.size() < total) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(kChunkWords, total - f.words_.size()));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count * 8));
    if (static_cast<size_t>(in.gcount()) != count * 8) return bad("truncated (fewer bit words than the header says)");
    sum.update(bytes.data(), count * 8);
    for (size_t i = 0; i < count; ++i) f.words_.push_back(get_u64(&bytes[i * 8]));
  }
  auto want = sum.digest();
  if (!want) return want.status();
  score::FileChecksum::Digest got{};
  in.read(reinterpret_cast<char*>(got.data()), static_cast<std::streamsize>(got.size()));
  if (in.gcount() != static_cast<std::streamsize>(got.size())) return bad("truncated (no checksum)");
  if (got != *want) return bad("checksum mismatch (the file is corrupt)");
  if (in.peek() != std::char_traits<char>::eof()) return bad("trailing bytes after the checksum");
  return f;
}

}  // namespace telltale::radio
