// The report's per-document results: ranked strongest first, as a bar plot of the strongest documents with their
// names and a table, both cut to a fixed length so that a record of 10,000 documents still gives a small report.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace telltale::evidence::report {

// The documents the plot shows and the table lists, at most.
inline constexpr size_t kMaxPlottedDocuments = 20;
inline constexpr size_t kMaxListedDocuments = 50;

// A document's name for a reader: its source, with the JSONL line or the part number when the file held several.
std::string document_name(const nlohmann::json& document);
// A name cut for a plot label: at most 36 characters, the end kept (it tells documents of one file apart).
std::string short_document_name(const std::string& name);

struct RankedDocument {
  std::string name;
  double log10_p = 0;  // the p-value the table states (corrected as the record's is)
  std::string detail;  // one more column: scored tokens, the best account
  bool flagged = false;
};

// A detection record's documents: p-value and scored tokens of each.
std::vector<RankedDocument> detection_documents(const nlohmann::json& record);
// An attribution record's documents (from its per-document best-account series): each one's best account and the
// p-value after Holm over the registry; flagged at or below alpha.
std::vector<RankedDocument> attribution_documents(const nlohmann::json& record, double alpha);

// The plot (id plot-documents) and the table (id documents-table), strongest first. `detail_heading` names the detail
// column, `flag` says what a flagged document is ("detected").
std::string ranked_documents_html(std::vector<RankedDocument> documents, double alpha, const std::string& plot_title,
                                  const std::string& detail_heading, const std::string& flag);

}  // namespace telltale::evidence::report
