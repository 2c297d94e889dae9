// Runs of scored tuples spilled to disk when the corpus-wide tuple set outgrows `detect --memory-limit`: each run
// hash-sorted with one record per hash, the runs in input order in one unnamed temporary file, read back through the
// k-way merge of score/tuple_merge.hpp (the same first-occurrence rule as one pass in memory).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "score/document_scorer.hpp"
#include "score/tuple_merge.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

class TupleRuns {
 public:
  // An empty set of runs in a temporary file under `dir` ("": $TMPDIR, else /tmp), removed from the directory at once
  // (nothing is left behind, whatever happens to the process).
  static Result<TupleRuns> create(const std::string& dir);
  TupleRuns(TupleRuns&& other) noexcept;
  TupleRuns& operator=(TupleRuns&& other) noexcept;
  TupleRuns(const TupleRuns&) = delete;
  TupleRuns& operator=(const TupleRuns&) = delete;
  ~TupleRuns();

  // Writes `run` (sorted by hash, one record per hash) after the earlier runs.
  Status append(std::span<const TupleEntry> run);
  size_t runs() const { return runs_.size(); }
  uint64_t bytes() const { return end_; }

  // Visits the union of the runs, then of `tail` (a run in memory that follows them in input order), once per
  // hash: the record of the earliest run holding it. Reads each run through a buffer of `buffer_records` records.
  Status merge(std::span<const TupleEntry> tail, size_t buffer_records, const EntryVisitor& visit) const;

 private:
  TupleRuns(int fd, std::string dir) : fd_(fd), dir_(std::move(dir)) {}

  int fd_ = -1;
  std::string dir_;                                  // named in messages (the file itself has no name)
  std::vector<std::pair<uint64_t, uint64_t>> runs_;  // (byte offset, records)
  uint64_t end_ = 0;
};

}  // namespace telltale::score
