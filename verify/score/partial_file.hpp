// The partial-result file: what `telltale detect --emit-partial` writes for one shard and `telltale merge` reads
// (layout in spec/partial-results.md).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "score/partial_result.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

// Writes the analyses' partial results (sealed first). Fails if the file exists or cannot be written.
Status write_partial_file(const std::string& path, std::vector<PartialResult>& results);

// Reads a partial file; errors name the file and what is wrong with it.
Result<std::vector<PartialResult>> read_partial_file(const std::string& path);

// The same on streams (`name` is used in messages). A stream that is not a valid partial result gives an error,
// never a crash or an allocation sized by a corrupt count.
void write_partial_stream(std::ostream& out, std::vector<PartialResult>& results);
Result<std::vector<PartialResult>> read_partial_stream(std::istream& in, const std::string& name);

}  // namespace telltale::score
