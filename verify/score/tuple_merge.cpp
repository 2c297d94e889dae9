// The k-way merge: a min-heap on (hash, source) holding the head record of every run.
#include "score/tuple_merge.hpp"

#include <queue>
#include <vector>

namespace telltale::score {

namespace {

struct Head {
  TupleEntry entry;
  size_t source = 0;
};
// Min-heap on (hash, source): the earliest source first on equal hashes.
struct HeadAfter {
  bool operator()(const Head& a, const Head& b) const {
    return a.entry.hash != b.entry.hash ? a.entry.hash > b.entry.hash : a.source > b.source;
  }
};

}  // namespace

Status merge_entry_sources(std::span<const EntrySource> sources, const EntryVisitor& visit) {
  std::vector<Head> storage;
  storage.reserve(sources.size());
  std::priority_queue<Head, std::vector<Head>, HeadAfter> heap(HeadAfter{}, std::move(storage));
  auto pull = [&](size_t s) -> Status {
    Head h;
    h.source = s;
    auto got = sources[s](h.entry);
    if (!got) return got.status();
    if (*got) heap.push(h);
    return Status::ok();
  };
  for (size_t s = 0; s < sources.size(); ++s) TT_RETURN_IF_ERROR(pull(s));
  bool has_last = false;
  uint64_t last = 0;
  while (!heap.empty()) {
    const Head h = heap.top();
    heap.pop();
    if (!has_last || h.entry.hash != last) {
      visit(h.entry, h.source);
      has_last = true;
      last = h.entry.hash;
    }
    TT_RETURN_IF_ERROR(pull(h.source));
  }
  return Status::ok();
}

}  // namespace telltale::score
