// The per-thread piece -> ids map behind encode_with_piece_cache. Allocation happens only when a piece is first seen.
#include "input/cached_tokenizer.hpp"

#include <string>
#include <unordered_map>

namespace telltale::input {
namespace {

// Bounds on what one thread keeps: pieces longer than kMaxPieceBytes are rarely repeated and are encoded directly;
// past kMaxEntries the map starts afresh (a working set of English words is a few tens of thousands).
constexpr size_t kMaxPieceBytes = 64;
constexpr size_t kMaxEntries = size_t{1} << 18;

struct PieceHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct ThreadCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<int32_t>, PieceHash, std::equal_to<>> ids;
  std::vector<int32_t> scratch;
};

thread_local ThreadCache t_cache;

}  // namespace

bool joins_word_to_space(std::string_view piece) {
  static constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SPM's escaped space
  for (size_t at = piece.find(kSpaceMark, 1); at != std::string_view::npos; at = piece.find(kSpaceMark, at + 1)) {
    if (at < kSpaceMark.size() || piece.substr(at - kSpaceMark.size(), kSpaceMark.size()) != kSpaceMark) return true;
  }
  return false;
}

Status encode_with_piece_cache(const TokenizerModel& model, uint64_t owner, std::string_view text,
                               std::vector<int32_t>& out) {
  out.clear();
  ThreadCache& cache = t_cache;
  if (cache.owner != owner || cache.ids.size() > kMaxEntries) {
    cache.ids.clear();
    cache.owner = owner;
  }
  const bool drop_space = model.piece_split() == PieceSplit::kSpaceBeforeWordDropped;
  Status status = Status::ok();
  for_each_piece(text, [&](size_t begin, size_t end) {
    if (!status.is_ok()) return;
    std::string_view piece = text.substr(begin, end - begin);
    if (drop_space && begin > 0) piece.remove_prefix(1);  // the model's own prefix stands in for it
    if (piece.size() > kMaxPieceBytes) {
      status = model.encode(piece, cache.scratch);
      out.insert(out.end(), cache.scratch.begin(), cache.scratch.end());
      return;
    }
    auto it = cache.ids.find(piece);
    if (it == cache.ids.end()) {
      status = model.encode(piece, cache.scratch);
      if (!status.is_ok()) return;
      it = cache.ids.emplace(std::string(piece), cache.scratch).first;
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
  });
  if (!status.is_ok()) out.clear();
  return status;
}

}  // namespace telltale::input
