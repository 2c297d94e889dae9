// The JSON of `telltale attribute`: one object per document (its own account test, beside the zero-bit layer's
// detect object) and the corpus summary. Only public ids appear: account ids, the key id, never key material.
#pragma once

#include <nlohmann/json.hpp>

#include "attrib/attribution_scan.hpp"

namespace telltale::attrib {

inline constexpr const char* kAttributionFormat = "telltale-attribute-1";

// {"scored_contexts", "theta", "family", "accounts": [...ranked...], "attributed": [ids]}; model-aware, also
// "weighted": true and "exact" (false where some listed p-value is the Chernoff bound rather than the exact tail).
nlohmann::json attribution_json(const Attribution& a);

// A document's own test without its input position or zero-bit object: tokens, prompt_tokens, no_context,
// duplicate_contexts and attribution_json's fields.
nlohmann::json document_account_json(const DocumentAttribution& d);

// A document's line: `zero_bit` is detect's document object for the same document (score::document_json).
nlohmann::json document_attribution_json(const DocumentAttribution& d, nlohmann::json zero_bit);

// The summary: top level p_value (smallest corpus-adjusted accusation; 1 when none), attributed (bool), alpha,
// accusations, accounts, pooled, and `zero_bit` = detect's summary object for the zero-bit layer.
nlohmann::json corpus_attribution_json(const CorpusAttribution& c, size_t registry_size, double alpha,
                                       nlohmann::json zero_bit);

}  // namespace telltale::attrib
