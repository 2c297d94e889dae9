// Attribution results as JSON; p-values both as numbers and as log10 (they underflow doubles in long texts).
#include "attrib/attribution_json.hpp"

#include <cmath>

#include "stats/tails.hpp"

namespace telltale::attrib {

namespace {

void put_p(nlohmann::json& j, const char* name, double log_p) {
  j[name] = std::exp(log_p);
  j[std::string("log10_") + name] = stats::log10_from_ln(log_p);
}

}  // namespace

nlohmann::json attribution_json(const Attribution& a) {
  nlohmann::json j = {{"scored_contexts", a.scored}, {"theta", a.theta}, {"family", a.family}};
  nlohmann::json ranked = nlohmann::json::array();
  nlohmann::json attributed = nlohmann::json::array();
  for (const RankedAccount& r : a.ranked) {
    nlohmann::json one = {{"account", r.account}, {"matches", r.matches}, {"attributed", r.attributed}};
    put_p(one, "p_value", r.log_p);
    put_p(one, "p_value_holm", r.log_p_adjusted);
    ranked.push_back(std::move(one));
    if (r.attributed) attributed.push_back(r.account);
  }
  j["accounts"] = std::move(ranked);
  j["attributed"] = std::move(attributed);
  if (a.weighted) {
    j["weighted"] = true;
    j["exact"] = a.exact;
  }
  return j;
}

nlohmann::json document_account_json(const DocumentAttribution& d) {
  nlohmann::json j = {{"tokens", d.tokens},
                      {"prompt_tokens", d.prompt_tokens},
                      {"no_context", d.no_context},
                      {"duplicate_contexts", d.duplicates}};
  j.update(attribution_json(d.result));
  return j;
}

nlohmann::json document_attribution_json(const DocumentAttribution& d, nlohmann::json zero_bit) {
  nlohmann::json j = document_account_json(d);
  j["source"] = zero_bit.value("source", "");
  j["line"] = zero_bit.value("line", uint64_t{0});
  j["index"] = zero_bit.value("index", uint64_t{0});
  j["zero_bit"] = std::move(zero_bit);
  return j;
}

nlohmann::json corpus_attribution_json(const CorpusAttribution& c, size_t registry_size, double alpha,
                                       nlohmann::json zero_bit) {
  nlohmann::json j;
  double best = 0.0;
  nlohmann::json accusations = nlohmann::json::array();
  for (const Accusation& a : c.accusations) {
    best = std::min(best, a.log_p_adjusted);
    nlohmann::json one = {{"account", a.account}, {"matches", a.matches}, {"scored_contexts", a.scored}};
    if (a.pooled) {
      one["pooled"] = true;
    } else {
      one["document"] = a.document;
      one["label"] = a.label;
    }
    put_p(one, "p_value", a.log_p);
    put_p(one, "p_value_holm", a.log_p_adjusted);
    accusations.push_back(std::move(one));
  }
  put_p(j, "p_value", best);
  j["attributed"] = !c.accusations.empty();
  j["alpha"] = alpha;
  j["documents"] = c.documents;
  j["accounts_tested"] = registry_size;
  j["hypotheses"] = c.family;
  j["multiple_testing"] =
      "Holm over every (document or pooled corpus, registry account) pair; per-document lines: Holm over the registry";
  j["accusations"] = std::move(accusations);
  nlohmann::json accounts = nlohmann::json::array();
  for (const AccountSummary& s : c.accounts) {
    accounts.push_back({{"account", s.account},
                        {"documents_accused", s.documents_accused},
                        {"documents_attributed", s.documents_attributed},
                        {"pooled_accused", s.pooled_accused}});
  }
  j["accounts"] = std::move(accounts);
  j["pooled"] = attribution_json(c.pooled);
  j["zero_bit"] = std::move(zero_bit);
  j["format"] = kAttributionFormat;
  return j;
}

}  // namespace telltale::attrib
