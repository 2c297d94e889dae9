// Merging partial-result files without holding their tuples: a k-way merge of the files' fingerprint-sorted records,
// in memory proportional to the number of documents (32 bytes each), not of tuples. Gives the same summary, bit for
// bit, as reading every file into memory and appending (PartialResult::append) in the same order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "score/partial_result.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

struct MergedAnalysis {
  AnalysisInfo info;
  CorpusSummary summary;
};

// `paths` in input order (shard 1 first). All files must hold the same analyses (key, scheme, rules, tokenizer).
Result<std::vector<MergedAnalysis>> merge_partial_files(const std::vector<std::string>& paths);

// The same merge with every tuple read into memory and appended in order: the merged partial result itself, for
// writing it out (`merge --emit-partial`). Errors name the file. With a memory limit (bytes, > 0) one file is held at
// a time: each file's tuples become a run spilled under `spill_dir` (PartialResult::set_memory_limit).
Result<std::vector<PartialResult>> read_merged_partial_files(const std::vector<std::string>& paths,
                                                             uint64_t memory_limit = 0,
                                                             const std::string& spill_dir = "");

}  // namespace telltale::score
