// The scan: marks from the account layer, one scored context per unique context (per document and per corpus),
// document tests, the pooled test, and the corpus-level Holm correction.
#include "attrib/attribution_scan.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "score/tuple_hash.hpp"

namespace telltale::attrib {

namespace {

// The identity of a context window (unkeyed, like the verifier's tuple hash, so that which contexts count never
// depends on the key).
uint64_t context_hash(std::span<const int32_t> window) {
  return score::tuple_hash(window.first(window.size() - 1), window.back());
}

}  // namespace

AttributionScan::AttributionScan(Detector detector, const AccountRegistry& registry, const AttributionOptions& options)
    : detector_(std::move(detector)),
      registry_(&registry),
      options_(options),
      theta_(null_match_bound(detector_.params().fingerprint.account_delta)) {}

Result<AttributionScan> AttributionScan::create(const Detector& detector, const AccountRegistry& registry,
                                                const AttributionOptions& options) {
  if (detector.params().scheme != SchemeKind::kFingerprint) {
    return invalid_argument("attribution needs the fingerprint scheme");
  }
  if (!(options.alpha > 0 && options.alpha < 1)) return invalid_argument("alpha must be in (0, 1)");
  auto clone = detector.clone();
  if (!clone) return clone.status();
  return AttributionScan(std::move(clone).value(), registry, options);
}

void AttributionScan::collect(std::span<const int32_t> ids, size_t prompt_tokens, bool per_document,
                              std::span<const uint32_t> weights) {
  const size_t n = ids.size();
  const size_t w = detector_.window_size();
  const size_t p = std::min(prompt_tokens, n);
  const size_t first = std::max(p, std::min(w, n));
  doc_ = {};
  doc_.tokens = n;
  doc_.prompt_tokens = p;
  doc_.no_context = first - p;
  doc_evidence_.clear();
  doc_null_.clear();
  if (first >= n) return;
  // Plain: every context weighs 1. Model-aware: a context of weight 0 (or missing) carries no evidence: not scored.
  const bool weighted = options_.weighted;
  marks_.resize(n - first);
  // The detector is a fingerprint detector and first >= w: account_marks cannot fail here.
  if (!detector_.account_marks(ids, first, marks_).is_ok()) marks_.assign(n - first, kFingerprintNoMark);
  doc_seen_.reset(n);
  for (size_t i = w; i < p; ++i) doc_seen_.insert(context_hash(ids.subspan(i - w, w)));
  for (size_t i = first; i < n; ++i) {
    const uint32_t mark = marks_[i - first];
    const uint64_t h = context_hash(ids.subspan(i - w, w));
    if (!doc_seen_.insert(h)) {
      ++doc_.duplicates;
      continue;
    }
    if (mark == kFingerprintNoMark) continue;
    const uint32_t units = !weighted ? 1 : i < weights.size() ? weights[i] : 0;
    if (units == 0) continue;
    if (per_document) {
      doc_evidence_.add(mark, units);
      if (weighted) doc_null_.add(units);
    }
    if (pool_seen_.insert(h)) {
      pool_evidence_.add(mark, units);
      if (weighted) pool_null_.add(units);
    }
  }
}

void AttributionScan::pool_document(std::span<const int32_t> ids, size_t prompt_tokens,
                                    std::span<const uint32_t> weights) {
  collect(ids, prompt_tokens, false, weights);
  ++documents_;
}

const DocumentAttribution& AttributionScan::add_document(std::span<const int32_t> ids, size_t prompt_tokens,
                                                         const std::string& label, std::span<const uint32_t> weights) {
  collect(ids, prompt_tokens, true, weights);
  doc_.result = attribute(doc_evidence_, *registry_, theta_, options_, 0, null_of(doc_null_));
  const double keep_log = std::log(options_.alpha) - std::log(static_cast<double>(registry_->size()));
  for (const RankedAccount& r : doc_.result.ranked) {
    if (r.attributed) ++attributed_documents_[r.account];
    if (r.log_p <= keep_log) {
      candidates_.push_back({r.account, false, documents_, label, r.matches, doc_.result.scored, r.log_p, 0.0});
    }
  }
  ++documents_;
  return doc_;
}

CorpusAttribution AttributionScan::finish() const {
  CorpusAttribution out;
  out.documents = documents_;
  out.family = (documents_ + 1) * registry_->size();
  out.pooled = attribute(pool_evidence_, *registry_, theta_, options_, 0, null_of(pool_null_));
  std::vector<Accusation> all = candidates_;
  const double keep_log = std::log(options_.alpha) - std::log(static_cast<double>(registry_->size()));
  for (const RankedAccount& r : out.pooled.ranked) {
    if (r.log_p <= keep_log) all.push_back({r.account, true, 0, "", r.matches, out.pooled.scored, r.log_p, 0.0});
  }
  std::vector<double> logs;
  for (const Accusation& a : all) logs.push_back(a.log_p);
  const std::vector<double> adjusted = holm_partial_log(logs, out.family);
  const double log_alpha = std::log(options_.alpha);
  std::map<uint32_t, AccountSummary> accounts;
  for (const auto& [account, count] : attributed_documents_) {
    accounts[account].account = account;
    accounts[account].documents_attributed = count;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (adjusted[i] > log_alpha) continue;
    Accusation a = all[i];
    a.log_p_adjusted = adjusted[i];
    AccountSummary& s = accounts[a.account];
    s.account = a.account;
    if (a.pooled)
      s.pooled_accused = true;
    else
      ++s.documents_accused;
    out.accusations.push_back(std::move(a));
  }
  std::stable_sort(out.accusations.begin(), out.accusations.end(),
                   [](const Accusation& a, const Accusation& b) { return a.log_p < b.log_p; });
  for (const auto& [account, s] : accounts) out.accounts.push_back(s);
  std::stable_sort(out.accounts.begin(), out.accounts.end(), [](const AccountSummary& a, const AccountSummary& b) {
    return a.documents_accused > b.documents_accused;
  });
  return out;
}

}  // namespace telltale::attrib
