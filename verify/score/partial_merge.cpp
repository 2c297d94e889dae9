// The streaming merge: for each analysis, every file's header, then its document tallies (without dedup) or the k-way
// merge of all files' records (with dedup, score/tuple_merge.hpp), keeping on equal fingerprints the record of the
// earliest file -- the same first-occurrence rule as PartialResult::append.
#include "score/partial_merge.hpp"

#include <istream>
#include <memory>

#include "input/input_stream.hpp"
#include "score/partial_file.hpp"
#include "score/tuple_merge.hpp"

namespace telltale::score {

Result<std::vector<MergedAnalysis>> merge_partial_files(const std::vector<std::string>& paths) {
  if (paths.empty()) return invalid_argument("no partial results to merge");
  std::vector<std::unique_ptr<std::istream>> files;
  std::vector<PartialReader> readers;
  for (const std::string& path : paths) {
    // A regular file only (a FIFO must not block the merge), and never a key file (its bytes must not be quoted).
    auto in = input::open_input_stream(path, "partial result", "a telltale partial result");
    if (!in) return in.status();
    files.push_back(std::move(in).value());
    auto r = PartialReader::open(*files.back(), path);
    if (!r) return r.status();
    if (!readers.empty() && r->analyses() != readers[0].analyses())
      return invalid_argument(path + ": a different number of analyses than " + paths[0]);
    readers.push_back(std::move(r).value());
  }
  std::vector<MergedAnalysis> out;
  for (uint32_t a = 0; a < readers[0].analyses(); ++a) {
    AnalysisInfo info;
    PartialResult::State total;
    std::vector<uint64_t> offsets;
    for (size_t f = 0; f < readers.size(); ++f) {
      AnalysisInfo fi;
      PartialResult::State counters;
      TT_RETURN_IF_ERROR(readers[f].next_analysis(fi, counters));
      if (f == 0) {
        info = fi;
      } else if (!same_analysis(info, fi)) {
        return invalid_argument(paths[f] +
                                ": partial results of different analyses (key, scheme, rules or tokenizer) "
                                "cannot merge");
      }
      offsets.push_back(total.documents);
      add_counters(total, counters);
    }
    std::vector<double> log_ps;
    Tally pooled = total.raw;
    uint64_t unique = 0;
    if (!info.rules.dedup) {
      Tally t;
      for (PartialReader& r : readers) {
        for (;;) {
          auto got = r.read_tally(t);
          if (!got) return got.status();
          if (!*got) break;
          if (t.scored > 0) log_ps.push_back(evaluate(t, info.null).log_p);
        }
      }
    } else {
      pooled = {};
      std::vector<Tally> per_doc(total.documents);
      std::vector<EntrySource> sources;
      for (PartialReader& r : readers) sources.emplace_back([&r](TupleEntry& e) { return r.read_entry(e); });
      TT_RETURN_IF_ERROR(merge_entry_sources(sources, [&](const TupleEntry& e, size_t file) {
        pooled.add(e.score);
        per_doc[offsets[file] + e.doc].add(e.score);
        ++unique;
      }));
      for (const Tally& t : per_doc) {
        if (t.scored > 0) log_ps.push_back(evaluate(t, info.null).log_p);
      }
    }
    out.push_back({info, finish_summary(info, total, pooled, log_ps, unique)});
  }
  for (PartialReader& r : readers) TT_RETURN_IF_ERROR(r.finish());
  return out;
}

Result<std::vector<PartialResult>> read_merged_partial_files(const std::vector<std::string>& paths,
                                                             uint64_t memory_limit, const std::string& spill_dir) {
  std::vector<PartialResult> merged;
  for (const std::string& path : paths) {
    auto part = read_partial_file(path);
    if (!part) return part.status();
    if (merged.empty()) {
      merged = std::move(part).value();
      if (memory_limit > 0)
        for (PartialResult& r : merged) r.set_memory_limit(memory_limit, spill_dir);
      continue;
    }
    if (part->size() != merged.size())
      return invalid_argument(path + ": a different number of analyses than " + paths[0]);
    for (size_t a = 0; a < merged.size(); ++a) {
      if (Status s = merged[a].append(std::move((*part)[a])); !s.is_ok())
        return Status(s.code(), path + ": " + s.message());
    }
  }
  return merged;
}

}  // namespace telltale::score
