// The provenance file of a radioactivity test (spec/radioactivity.md, section 5): one JSON line per scored tuple, so
// that every number of the report can be traced to the suspect's output that produced it. The writer hashes what it
// writes, so a bundle can state the file's SHA-256 and a re-run can recompute it without writing anything.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "radio/suspect_run.hpp"
#include "telltale/new_file.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

// The line of one scored tuple (without its newline): {"context" (16 lowercase hex digits), "doc", "position",
// "rank", "record", "score", "token"}, in that (alphabetical) order, compact, invalid UTF-8 in `doc` as U+FFFD.
std::string provenance_line(const ScoredTuple& tuple, const std::string& doc);

// Collects the provenance lines of a run: into a new file, or (no path) only into the hash.
class ProvenanceWriter {
 public:
  // `path` must not exist; "" hashes the lines without writing them.
  static Result<ProvenanceWriter> create(const std::string& path);
  ProvenanceWriter(ProvenanceWriter&&) noexcept;
  ProvenanceWriter& operator=(ProvenanceWriter&&) noexcept;
  ~ProvenanceWriter();

  // The callback to give the test; it refers to this writer, which must outlive the run.
  SuspectTupleCallback callback();
  // Writes out what is buffered and finishes the hash: the SHA-256 (lowercase hex) of every byte written. Call once.
  Result<std::string> finish();
  // Moves the file into place (a NewFile: nothing is at the path until then). Call once, after finish().
  Status commit();
  uint64_t lines() const { return lines_; }

 private:
  struct Hash;
  ProvenanceWriter() = default;
  void add(const ScoredTuple& tuple, const std::string& doc);
  std::optional<NewFile> file_;
  std::unique_ptr<Hash> hash_;
  uint64_t lines_ = 0;
};

}  // namespace telltale::radio
