// Merging partial results exactly: counts add, exact sums add, and tuple sets merge by fingerprint keeping the first
// occurrence in input order, so any split of the input (shards, threads) gives the one-pass result bit for bit.
#include "score/partial_result.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <span>
#include <thread>

#include "score/tuple_spill.hpp"
#include "stats/multiple_testing.hpp"

namespace telltale::score {

namespace {

// A function object, so that std::sort inlines the comparison.
struct EntryLess {
  bool operator()(const TupleEntry& a, const TupleEntry& b) const {
    return a.hash != b.hash ? a.hash < b.hash : a.doc < b.doc;
  }
};

// Keeps the first entry of each run of equal hashes (the earliest document, as the input is sorted by (hash, doc)).
void unique_by_hash(std::vector<TupleEntry>& v) {
  auto end = std::unique(v.begin(), v.end(), [](const TupleEntry& a, const TupleEntry& b) { return a.hash == b.hash; });
  v.erase(end, v.end());
}

// Appends the union of two hash-sorted, hash-unique runs to `out`; on equal hashes the entry of `first` (earlier in
// the input) is kept.
void merge_runs(std::span<const TupleEntry> first, std::span<const TupleEntry> second, std::vector<TupleEntry>& out) {
  size_t i = 0, j = 0;
  while (i < first.size() && j < second.size()) {
    if (first[i].hash < second[j].hash) {
      out.push_back(first[i++]);
    } else if (second[j].hash < first[i].hash) {
      out.push_back(second[j++]);
    } else {
      out.push_back(first[i++]);
      ++j;
    }
  }
  out.insert(out.end(), first.begin() + static_cast<ptrdiff_t>(i), first.end());
  out.insert(out.end(), second.begin() + static_cast<ptrdiff_t>(j), second.end());
}

// Is a better than b as the corpus's best window? Smaller corrected p; ties keep the earlier document.
bool better_window(const stats::WindowMatch& a, const stats::WindowMatch& b) {
  if (a.length == 0) return false;
  if (b.length == 0) return true;
  return a.log_p_corrected < b.log_p_corrected;
}

}  // namespace

bool same_analysis(const AnalysisInfo& a, const AnalysisInfo& b) {
  return a.key_id == b.key_id && a.configuration == b.configuration && a.null.kind == b.null.kind &&
         a.null.p == b.null.p && a.null.layers == b.null.layers && a.window_size == b.window_size &&
         a.rules.dedup == b.rules.dedup && a.rules.window_min == b.rules.window_min &&
         a.rules.window_ratio == b.rules.window_ratio && a.tokenizer_sha256 == b.tokenizer_sha256;
}

PartialResult::PartialResult(AnalysisInfo info) : info_(std::move(info)) {}
PartialResult::PartialResult(PartialResult&&) noexcept = default;
PartialResult& PartialResult::operator=(PartialResult&&) noexcept = default;
PartialResult::~PartialResult() = default;

PartialResult PartialResult::from_state(AnalysisInfo info, State state) {
  PartialResult r(std::move(info));
  r.state_ = std::move(state);
  // The entries must already be sorted and unique (the file reader checks); sort defensively if not.
  auto& v = r.state_.entries;
  const bool strictly_sorted = std::adjacent_find(v.begin(), v.end(), [](const TupleEntry& a, const TupleEntry& b) {
                                 return !(a.hash < b.hash);
                               }) == v.end();
  if (!strictly_sorted) {
    std::sort(v.begin(), v.end(), EntryLess{});
    unique_by_hash(v);
  }
  return r;
}

const PartialResult::State& PartialResult::state() {
  seal();
  return state_;
}

void PartialResult::add_document(const DocumentScore& doc) {
  State& s = state_;
  const uint64_t ordinal = s.documents++;
  s.tokens += doc.tokens;
  s.prompt_tokens += doc.prompt_tokens;
  s.no_context += doc.no_context;
  s.duplicates_in_documents += doc.duplicates;
  if (info_.rules.dedup) {
    s.local_tuples += doc.entries.size();
    if (staged_.empty()) staged_.resize(kStageBuckets);
    for (const TupleEntry& e : doc.entries) staged_[e.hash >> kStageShift].push_back({e.hash, ordinal, e.score});
    staged_count_ += doc.entries.size();
    // Sealing once the staged tuples outnumber the sealed ones keeps memory near the number of unique tuples.
    if (staged_count_ > (size_t{1} << 20) && staged_count_ > s.entries.size()) seal();
    // Under a memory limit, a quarter of it in records: the staged buckets' capacity (up to twice their records),
    // the sealed entries and the merged copy seal() builds stay within the limit together.
    if (memory_limit_ > 0 && (staged_count_ + s.entries.size()) * sizeof(TupleEntry) * 4 > memory_limit_) spill();
  } else {
    s.raw.add(doc.tally);
    s.doc_tallies.push_back(doc.tally);
  }
  if (doc.window_searched) {
    ++s.window_documents;
    if (better_window(doc.window, s.window)) {
      s.window = doc.window;
      s.window_doc = ordinal;
    }
  }
}

void PartialResult::seal() {
  if (staged_count_ == 0) return;
  // Staged tuples are bucketed by their top hash bits, so each bucket sorts in cache; the sealed entries are sorted
  // by hash, so bucket b's sealed entries form one contiguous run, merged with the bucket in one linear pass.
  // The buckets sort independently: on `threads_` threads.
  std::atomic<size_t> next{0};
  auto sort_buckets = [this, &next] {
    for (size_t b = next.fetch_add(1); b < staged_.size(); b = next.fetch_add(1)) {
      std::sort(staged_[b].begin(), staged_[b].end(), EntryLess{});
      unique_by_hash(staged_[b]);
    }
  };
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads_; ++t) helpers.emplace_back(sort_buckets);
  sort_buckets();
  for (auto& h : helpers) h.join();

  const auto& sealed = state_.entries;
  std::vector<TupleEntry> out;
  out.reserve(sealed.size() + staged_count_);
  size_t at = 0;
  for (size_t b = 0; b < staged_.size(); ++b) {
    auto& bucket = staged_[b];
    size_t end = at;
    while (end < sealed.size() && (sealed[end].hash >> kStageShift) == b) ++end;
    merge_runs(std::span(sealed).subspan(at, end - at), bucket, out);
    at = end;
    bucket.clear();
  }
  state_.entries = std::move(out);
  staged_count_ = 0;
}

void PartialResult::set_memory_limit(uint64_t bytes, std::string dir) {
  memory_limit_ = bytes;
  spill_dir_ = std::move(dir);
}

namespace {

// Writes one more run after the spilled ones, making the spill file on the first.
Status spill_run(std::unique_ptr<TupleRuns>& runs, const std::string& dir, std::span<const TupleEntry> run) {
  if (!runs) {
    auto created = TupleRuns::create(dir);
    if (!created) return created.status();
    runs = std::make_unique<TupleRuns>(std::move(created).value());
  }
  return runs->append(run);
}

}  // namespace

void PartialResult::spill() {
  seal();
  if (state_.entries.empty() || !spill_error_.is_ok()) return;
  spill_error_ = spill_run(runs_, spill_dir_, state_.entries);
  state_.entries = {};  // the memory itself goes back, not only the records
}

Status PartialResult::visit_entries(const std::function<void(const TupleEntry&)>& visit) {
  seal();
  TT_RETURN_IF_ERROR(spill_error_);
  if (!runs_) {
    for (const TupleEntry& e : state_.entries) visit(e);
    return Status::ok();
  }
  // Each run's read buffer gets an equal share of the limit (at least 16 records).
  const size_t buffer = std::max<size_t>(16, memory_limit_ / 2 / sizeof(TupleEntry) / (runs_->runs() + 1));
  return runs_->merge(state_.entries, buffer, [&visit](const TupleEntry& e, size_t) { visit(e); });
}

Result<CorpusSummary> PartialResult::summarize_checked() {
  seal();
  TT_RETURN_IF_ERROR(spill_error_);
  if (!runs_) return summarize();
  // As the streaming merge of partial files does: one pass over the merged runs, 32 bytes per document.
  Tally pooled;
  std::vector<Tally> per_doc(state_.documents);
  uint64_t unique = 0;
  TT_RETURN_IF_ERROR(visit_entries([&](const TupleEntry& e) {
    pooled.add(e.score);
    per_doc[e.doc].add(e.score);
    ++unique;
  }));
  std::vector<double> log_ps;
  for (const Tally& t : per_doc) {
    if (t.scored > 0) log_ps.push_back(evaluate(t, info_.null).log_p);
  }
  return finish_summary(info_, state_, pooled, log_ps, unique);
}

void add_counters(PartialResult::State& a, const PartialResult::State& b) {
  const uint64_t offset = a.documents;
  a.documents += b.documents;
  a.skipped_bad += b.skipped_bad;
  a.tokens += b.tokens;
  a.prompt_tokens += b.prompt_tokens;
  a.no_context += b.no_context;
  a.duplicates_in_documents += b.duplicates_in_documents;
  a.local_tuples += b.local_tuples;
  a.raw.add(b.raw);
  a.window_documents += b.window_documents;
  if (better_window(b.window, a.window)) {
    a.window = b.window;
    a.window_doc = b.window_doc + offset;
  }
}

Status PartialResult::append(PartialResult&& next) {
  if (!same_analysis(info_, next.info_)) {
    return invalid_argument("partial results of different analyses (key, scheme, rules or tokenizer) cannot merge");
  }
  if (next.runs_) return Status(StatusCode::kState, "a partial result spilled to disk cannot be appended");
  if (runs_ && memory_limit_ == 0) return Status(StatusCode::kState, "spilled runs without a memory limit");
  seal();
  next.seal();
  State& s = state_;
  State& o = next.state_;
  const uint64_t offset = s.documents;
  add_counters(s, o);
  s.doc_tallies.insert(s.doc_tallies.end(), o.doc_tallies.begin(), o.doc_tallies.end());
  for (TupleEntry& e : o.entries) e.doc += offset;
  if (memory_limit_ > 0) {
    // Under a memory limit the appended tuples become one more run on disk, after ours: the k-way merge of
    // visit_entries() keeps the earlier run's record, as the in-memory merge below keeps ours.
    spill();
    if (spill_error_.is_ok() && !o.entries.empty()) spill_error_ = spill_run(runs_, spill_dir_, o.entries);
    o = State{};
    return spill_error_;
  }
  std::vector<TupleEntry> merged;
  merged.reserve(s.entries.size() + o.entries.size());
  merge_runs(s.entries, o.entries, merged);  // on equal hashes ours (earlier documents) is kept
  s.entries = std::move(merged);
  o = State{};
  return Status::ok();
}

CorpusSummary finish_summary(const AnalysisInfo& info, const PartialResult::State& s, const Tally& pooled,
                             std::span<const double> doc_log_p, uint64_t unique_tuples) {
  CorpusSummary out;
  out.documents = s.documents;
  out.skipped_bad = s.skipped_bad;
  out.tokens = s.tokens;
  out.prompt_tokens = s.prompt_tokens;
  out.no_context = s.no_context;
  out.duplicates_in_documents = s.duplicates_in_documents;
  if (info.rules.dedup) {
    out.duplicates_across_documents = s.local_tuples >= unique_tuples ? s.local_tuples - unique_tuples : 0;
  }
  out.pooled = evaluate(pooled, info.null);
  out.fisher_documents = doc_log_p.size();
  out.fisher_log_p = doc_log_p.empty() ? 0.0 : stats::fisher_combine_log(doc_log_p);
  out.window_documents = s.window_documents;
  out.window_doc = s.window_doc;
  out.window = s.window;
  out.window_log_p = s.window.length > 0 ? stats::bonferroni_log(s.window.log_p_corrected, s.window_documents) : 0.0;
  return out;
}

CorpusSummary PartialResult::summarize() {
  if (runs_ || !spill_error_.is_ok()) {
    // Spilled: only summarize_checked() can report a failure to read the runs back; a caller that has none to
    // report must never get a summary of part of the tuples.
    auto checked = summarize_checked();
    if (!checked) std::abort();
    return *checked;
  }
  seal();
  const State& s = state_;
  std::vector<double> log_ps;  // per document with at least one scored tuple, in document order
  Tally pooled = s.raw;
  if (info_.rules.dedup) {
    // Each tuple belongs to the document that first contained it; grouping (doc, score) pairs by document needs
    // memory in the number of tuples, never in the document count.
    std::vector<std::pair<uint64_t, double>> by_doc;
    by_doc.reserve(s.entries.size());
    pooled = {};
    for (const TupleEntry& e : s.entries) {
      pooled.add(e.score);
      by_doc.emplace_back(e.doc, e.score);
    }
    std::sort(by_doc.begin(), by_doc.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < by_doc.size();) {
      Tally t;
      const uint64_t doc = by_doc[i].first;
      for (; i < by_doc.size() && by_doc[i].first == doc; ++i) t.add(by_doc[i].second);
      log_ps.push_back(evaluate(t, info_.null).log_p);
    }
  } else {
    for (const Tally& t : s.doc_tallies) {
      if (t.scored > 0) log_ps.push_back(evaluate(t, info_.null).log_p);
    }
  }
  return finish_summary(info_, s, pooled, log_ps, s.entries.size());
}

}  // namespace telltale::score
