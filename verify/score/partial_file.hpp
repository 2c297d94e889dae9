// The partial-result file: what `telltale detect --emit-partial` writes for one shard and `telltale merge` reads
// (layout in spec/partial-results.md).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "score/file_checksum.hpp"
#include "score/partial_result.hpp"
#include "telltale/new_file.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

// Writes the analyses' partial results (sealed first). Fails if the file exists or cannot be written; a failed write
// leaves nothing at `path` (a NewFile).
Status write_partial_file(const std::string& path, std::vector<PartialResult>& results);
// The same, up to the move into place: the file appears at `path` when the result is committed, so that a command
// can write its other outputs first and create all or none.
Result<NewFile> stage_partial_file(const std::string& path, std::vector<PartialResult>& results);

// Reads a partial file; errors name the file and what is wrong with it (a damaged file: its checksum does not match).
Result<std::vector<PartialResult>> read_partial_file(const std::string& path);

// Reads a partial file's analyses one at a time and their records one by one, in file order, without holding them:
// what a streaming merge of many large files needs. Every record is checked as it is read (sorted fingerprints,
// known documents, scores in range, document tallies adding up); errors name the stream.
class PartialReader {
 public:
  // Reads the magic and the number of analyses from `in`, which must outlive the reader.
  static Result<PartialReader> open(std::istream& in, std::string name);
  uint32_t analyses() const { return analyses_; }
  // The next analysis's info and counters (the state without records). The previous one must have been read to its
  // end: all its tallies, then all its entries.
  Status next_analysis(AnalysisInfo& info, PartialResult::State& counters);
  // The next per-document tally (only without dedup), or false when there are no more.
  Result<bool> read_tally(Tally& t);
  // The next tuple record, in fingerprint order, or false when there are no more.
  Result<bool> read_entry(TupleEntry& e);
  // Checks the trailer and the checksum of every byte read, after the last analysis was read to its end. Until it
  // succeeds, nothing read may be trusted: a damaged file can hold well-formed but wrong numbers.
  Status finish();

 private:
  PartialReader(std::istream& in, std::string name) : in_(&in), name_(std::move(name)) {}
  Status bad(const std::string& what) const;
  Status count_entries();

  std::istream* in_;
  std::string name_;
  uint32_t analyses_ = 0;
  uint32_t read_analyses_ = 0;
  bool dedup_ = true;
  uint64_t documents_ = 0;
  uint64_t tallies_left_ = 0;
  uint64_t entries_left_ = 0;
  bool entries_counted_ = false;
  Tally raw_;
  Tally tallies_sum_;
  bool has_last_ = false;
  uint64_t last_hash_ = 0;
  FileChecksum checksum_;
};

// The same on streams (`name` is used in messages). A stream that is not a valid partial result gives an error,
// never a crash or an allocation sized by a corrupt count.
Status write_partial_stream(std::ostream& out, std::vector<PartialResult>& results);
Result<std::vector<PartialResult>> read_partial_stream(std::istream& in, const std::string& name);

}  // namespace telltale::score
