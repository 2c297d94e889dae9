// Merging partial results exactly: counts add, exact sums add, and tuple sets merge by fingerprint keeping the first
// occurrence in input order, so any split of the input (shards, threads) gives the one-pass result bit for bit.
#include "score/partial_result.hpp"

#include <algorithm>
#include <cmath>

#include "stats/multiple_testing.hpp"

namespace telltale::score {

namespace {

bool entry_less(const TupleEntry& a, const TupleEntry& b) {
  return a.hash != b.hash ? a.hash < b.hash : a.doc < b.doc;
}

// Keeps the first entry of each run of equal hashes (the earliest document, as the input is sorted by (hash, doc)).
void unique_by_hash(std::vector<TupleEntry>& v, size_t from) {
  auto end = std::unique(v.begin() + static_cast<ptrdiff_t>(from), v.end(),
                         [](const TupleEntry& a, const TupleEntry& b) { return a.hash == b.hash; });
  v.erase(end, v.end());
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

PartialResult PartialResult::from_state(AnalysisInfo info, State state) {
  PartialResult r(std::move(info));
  r.state_ = std::move(state);
  r.sorted_ = 0;
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
    for (const TupleEntry& e : doc.entries) s.entries.push_back({e.hash, ordinal, e.score});
    // Sealing once the unsorted tail outgrows the sorted part keeps memory near the number of unique tuples.
    const size_t tail = s.entries.size() - sorted_;
    if (tail > (size_t{1} << 20) && tail > sorted_) seal();
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
  auto& v = state_.entries;
  if (sorted_ == v.size()) return;
  std::sort(v.begin() + static_cast<ptrdiff_t>(sorted_), v.end(), entry_less);
  unique_by_hash(v, sorted_);
  std::inplace_merge(v.begin(), v.begin() + static_cast<ptrdiff_t>(sorted_), v.end(), entry_less);
  unique_by_hash(v, 0);
  sorted_ = v.size();
}

Status PartialResult::append(PartialResult&& next) {
  if (!same_analysis(info_, next.info_)) {
    return invalid_argument("partial results of different analyses (key, scheme, rules or tokenizer) cannot merge");
  }
  seal();
  next.seal();
  State& s = state_;
  State& o = next.state_;
  const uint64_t offset = s.documents;
  s.documents += o.documents;
  s.skipped_bad += o.skipped_bad;
  s.tokens += o.tokens;
  s.prompt_tokens += o.prompt_tokens;
  s.no_context += o.no_context;
  s.duplicates_in_documents += o.duplicates_in_documents;
  s.local_tuples += o.local_tuples;
  s.raw.add(o.raw);
  s.doc_tallies.insert(s.doc_tallies.end(), o.doc_tallies.begin(), o.doc_tallies.end());
  for (TupleEntry& e : o.entries) e.doc += offset;
  s.entries.insert(s.entries.end(), o.entries.begin(), o.entries.end());
  // Both halves are sorted; on equal hashes the merge keeps ours first (earlier documents), and unique keeps it.
  std::inplace_merge(s.entries.begin(), s.entries.begin() + static_cast<ptrdiff_t>(sorted_), s.entries.end(),
                     entry_less);
  unique_by_hash(s.entries, 0);
  sorted_ = s.entries.size();
  s.window_documents += o.window_documents;
  if (better_window(o.window, s.window)) {
    s.window = o.window;
    s.window_doc = o.window_doc + offset;
  }
  o = State{};
  return Status::ok();
}

CorpusSummary PartialResult::summarize() {
  seal();
  const State& s = state_;
  CorpusSummary out;
  out.documents = s.documents;
  out.skipped_bad = s.skipped_bad;
  out.tokens = s.tokens;
  out.prompt_tokens = s.prompt_tokens;
  out.no_context = s.no_context;
  out.duplicates_in_documents = s.duplicates_in_documents;

  std::vector<Tally> first_seen;  // per document: the tuples it was first to contain
  const std::vector<Tally>* per_doc = &s.doc_tallies;
  Tally pooled = s.raw;
  if (info_.rules.dedup) {
    first_seen.assign(s.documents, Tally{});
    pooled = {};
    for (const TupleEntry& e : s.entries) {
      pooled.add(e.score);
      first_seen[e.doc].add(e.score);
    }
    per_doc = &first_seen;
    out.duplicates_across_documents = s.local_tuples - s.entries.size();
  }
  out.pooled = evaluate(pooled, info_.null);

  std::vector<double> log_ps;
  for (const Tally& t : *per_doc) {
    if (t.scored > 0) log_ps.push_back(evaluate(t, info_.null).log_p);
  }
  out.fisher_documents = log_ps.size();
  out.fisher_log_p = log_ps.empty() ? 0.0 : stats::fisher_combine_log(log_ps);

  out.window_documents = s.window_documents;
  out.window_doc = s.window_doc;
  out.window = s.window;
  out.window_log_p = s.window.length > 0 ? stats::bonferroni_log(s.window.log_p_corrected, s.window_documents) : 0.0;
  return out;
}

}  // namespace telltale::score
