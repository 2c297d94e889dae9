// The k-way merge of fingerprint-sorted runs of scored tuples, keeping on equal fingerprints the record of the
// earliest run in input order: what `telltale merge` does across partial files and `detect --memory-limit` across
// the runs it spilled to disk.
#pragma once

#include <cstddef>
#include <functional>
#include <span>

#include "score/document_scorer.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

// The next record of a run (hash-sorted, one record per hash), or false at its end.
using EntrySource = std::function<Result<bool>(TupleEntry&)>;
// A record kept by the merge, with the index of the run it came from.
using EntryVisitor = std::function<void(const TupleEntry&, size_t source)>;

// Visits the union of `sources` in increasing hash order, once per hash: the record of the lowest-numbered source
// holding it (sources are given in input order). Stops at the first error of a source.
Status merge_entry_sources(std::span<const EntrySource> sources, const EntryVisitor& visit);

}  // namespace telltale::score
