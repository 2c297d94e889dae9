// Attribution over a stream of documents: each document is tested on its own (Holm over the registry), the unique
// contexts of all documents are pooled into one more test per account, and the accusations that stand after Holm
// over every (document or pool, account) pair are the corpus-level result (spec/fingerprint.md section 5.4).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "attrib/account_evidence.hpp"
#include "attrib/account_registry.hpp"
#include "attrib/attribution.hpp"
#include "attrib/context_set.hpp"
#include "score/tuple_set.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::attrib {

struct DocumentAttribution {
  uint64_t tokens = 0;
  uint64_t prompt_tokens = 0;  // leading ids skipped as the known prompt
  uint64_t no_context = 0;     // ids after the prompt without a full context window before them
  uint64_t duplicates = 0;     // ids whose context was already scored in this document (or is the prompt's)
  Attribution result;          // Holm over the registry
};

// One accusation that stands after the corpus-level correction.
struct Accusation {
  uint32_t account = 0;
  bool pooled = false;    // from the pooled test (else from one document)
  uint64_t document = 0;  // 0-based document number when not pooled
  std::string label;      // the caller's label of that document
  uint64_t matches = 0;
  uint64_t scored = 0;
  double log_p = 0;
  double log_p_adjusted = 0;  // Holm over every (document or pool, account) pair
};

// Per account, what the corpus says about it (accounts with an accusation or a document-level attribution).
struct AccountSummary {
  uint32_t account = 0;
  uint64_t documents_attributed = 0;  // documents whose own test (Holm over the registry) attributed it
  uint64_t documents_accused = 0;     // documents whose accusation stands after the corpus-level correction
  bool pooled_accused = false;
};

struct CorpusAttribution {
  uint64_t documents = 0;
  uint64_t family = 0;  // (documents + 1) x registry size
  Attribution pooled;   // the pooled test over the corpus's unique contexts (adjusted over the registry only)
  std::vector<Accusation> accusations;   // best first
  std::vector<AccountSummary> accounts;  // by number of accused documents, then account id
};

class AttributionScan {
 public:
  // `detector` must be a fingerprint-scheme detector; it is cloned. `registry` must outlive the scan.
  static Result<AttributionScan> create(const Detector& detector, const AccountRegistry& registry,
                                        const AttributionOptions& options);

  // Tests one document (its first prompt_tokens ids are a known prompt: their contexts count as seen) and adds its
  // new contexts to the pool. `label` names it in accusations. The result is valid until the next call. Model-aware
  // (options.weighted): `weights` holds each id's weight in grid units (model/position_weights.hpp), one per id.
  const DocumentAttribution& add_document(std::span<const int32_t> ids, size_t prompt_tokens, const std::string& label,
                                          std::span<const uint32_t> weights = {});

  // Adds a document's new contexts to the pool only, without its own test: the linear-cost path for corpora whose
  // documents need not be attributed one by one (cost: tokens, plus positions x accounts once in finish()).
  void pool_document(std::span<const int32_t> ids, size_t prompt_tokens, std::span<const uint32_t> weights = {});

  CorpusAttribution finish() const;

  double theta() const { return theta_; }
  const AttributionOptions& options() const { return options_; }

 private:
  AttributionScan(Detector detector, const AccountRegistry& registry, const AttributionOptions& options);
  // Marks and de-duplicates one document's contexts into doc_ (counts) and the pool; into doc_evidence_ if asked.
  void collect(std::span<const int32_t> ids, size_t prompt_tokens, bool per_document,
               std::span<const uint32_t> weights);
  const WeightedMatchNull* null_of(const WeightedMatchNull& n) const { return options_.weighted ? &n : nullptr; }
  Detector detector_;
  const AccountRegistry* registry_;
  AttributionOptions options_;
  double theta_;
  DocumentAttribution doc_;
  AccountEvidence doc_evidence_;
  AccountEvidence pool_evidence_;
  WeightedMatchNull doc_null_;   // model-aware: the weights of the document's scored contexts
  WeightedMatchNull pool_null_;  // ... and of the pool's
  score::TupleSet doc_seen_;
  ContextSet pool_seen_;
  std::vector<uint32_t> marks_;
  uint64_t documents_ = 0;
  std::vector<Accusation> candidates_;                           // document-level pairs with p <= alpha / registry size
  std::unordered_map<uint32_t, uint64_t> attributed_documents_;  // account -> documents attributed on their own
};

}  // namespace telltale::attrib
