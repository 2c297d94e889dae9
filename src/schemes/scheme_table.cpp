// The scheme table's entries: one per scheme, and one per scheme-specific parameter (telltale/scheme_table.hpp).
#include "telltale/scheme_table.hpp"

#include <cstdio>
#include <iterator>
#include <string>

#include "schemes/fingerprint.hpp"
#include "schemes/gumbel.hpp"
#include "schemes/kgw.hpp"
#include "schemes/tournament.hpp"
#if defined(TELLTALE_TEST_SCHEME)
#include "test_scheme/parity.hpp"
#endif

namespace telltale {

namespace {

constexpr uint32_t bit(SchemeKind kind) { return 1u << static_cast<uint32_t>(kind); }
constexpr uint32_t kKgwLayer = bit(SchemeKind::kKgw) | bit(SchemeKind::kFingerprint);

constexpr const char* kTournamentScores[] = {"mean", "weighted-mean"};
static_assert(static_cast<size_t>(TournamentScore::kMean) == 0);
static_assert(static_cast<size_t>(TournamentScore::kWeightedMean) == 1);

const SchemeField kFields[] = {
    {"gamma", "gamma (green fraction)", "kgw, fingerprint: fraction of the vocabulary that is green, in (0, 1)",
     SchemeField::Type::kFraction, [](const SchemeParams& p) { return p.kgw.gamma; },
     [](SchemeParams& p, double v) { p.kgw.gamma = v; }, kKgwLayer, true},
    {"delta", "delta (logit bias)", "kgw, fingerprint: logit bias added to green ids, in logits, >= 0",
     SchemeField::Type::kLogits, [](const SchemeParams& p) { return static_cast<double>(p.kgw.delta); },
     [](SchemeParams& p, double v) { p.kgw.delta = static_cast<float>(v); }, kKgwLayer, true},
    {"layers", "layers", "tournament: number of layers m, 1..32", SchemeField::Type::kCount,
     [](const SchemeParams& p) { return static_cast<double>(p.tournament.layers); },
     [](SchemeParams& p, double v) { p.tournament.layers = static_cast<uint32_t>(v); }, bit(SchemeKind::kTournament),
     true},
    {"tournament_score", "tournament score",
     "tournament detection: mean (g-values that are 1) or weighted-mean (SynthID's weights 10..1)",
     SchemeField::Type::kChoice, [](const SchemeParams& p) { return static_cast<double>(p.tournament.score); },
     [](SchemeParams& p, double v) { p.tournament.score = static_cast<TournamentScore>(static_cast<uint32_t>(v)); },
     bit(SchemeKind::kTournament), true, kTournamentScores},
    {"account_delta", "account delta (account layer's logit bias)",
     "fingerprint: logit bias of the account layer, in logits, >= 0", SchemeField::Type::kLogits,
     [](const SchemeParams& p) { return static_cast<double>(p.fingerprint.account_delta); },
     [](SchemeParams& p, double v) { p.fingerprint.account_delta = static_cast<float>(v); },
     bit(SchemeKind::kFingerprint), false},
};

// The table: one line per scheme, in SchemeKind order. Each entry is written once, beside the scheme's code.
const SchemeInfo* const kSchemes[] = {
    &kgw::kInfo,    &gumbel::kInfo, &tournament::kInfo, &fingerprint::kInfo,
#if defined(TELLTALE_TEST_SCHEME)
    &parity::kInfo,
#endif
};
static_assert(std::size(kSchemes) == std::size(kSchemeKinds));

Status refuse_unknown(const SchemeParams&) { return invalid_argument("unknown scheme"); }
void describe_unknown(const SchemeParams&, char* buf, size_t size) { std::snprintf(buf, size, "scheme=unknown"); }
NullModel no_null(const SchemeParams&) { return {}; }
constexpr SchemeWords kNoWords = {"score", "score", ""};
const SchemeWords& no_words(const SchemeParams&) { return kNoWords; }
const SchemeInfo kUnknown = {SchemeKind::kKgw, "unknown",        "",      "",       false,
                             refuse_unknown,   describe_unknown, no_null, no_words, nullptr};

}  // namespace

std::span<const SchemeField> scheme_fields() { return kFields; }

const SchemeField* find_scheme_field(std::string_view name) {
  for (const SchemeField& f : kFields) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::span<const SchemeInfo* const> scheme_table() { return kSchemes; }

const SchemeInfo* find_scheme(SchemeKind kind) {
  for (const SchemeInfo* s : kSchemes) {
    if (s->kind == kind) return s;
  }
  return nullptr;
}

const SchemeInfo& scheme_info(SchemeKind kind) {
  const SchemeInfo* s = find_scheme(kind);
  return s != nullptr ? *s : kUnknown;
}

const char* scheme_name(SchemeKind kind) { return scheme_info(kind).name; }

std::optional<SchemeKind> parse_scheme(std::string_view name) {
  for (const SchemeInfo* s : kSchemes) {
    if (name == s->name) return s->kind;
  }
  return std::nullopt;
}

const char* scheme_name_list() {
  static const std::string list = [] {
    std::string names;
    for (const SchemeInfo* s : kSchemes) names += (names.empty() ? "" : ", ") + std::string(s->name);
    return names;
  }();
  return list.c_str();
}

const char* tournament_score_name(TournamentScore score) {
  const auto i = static_cast<size_t>(score);
  return i < std::size(kTournamentScores) ? kTournamentScores[i] : "unknown";
}

std::optional<TournamentScore> parse_tournament_score(std::string_view name) {
  for (size_t i = 0; i < std::size(kTournamentScores); ++i) {
    if (name == kTournamentScores[i]) return static_cast<TournamentScore>(i);
  }
  return std::nullopt;
}

NullModel null_model(const SchemeParams& p) { return scheme_info(p.scheme).null_model(p); }

double null_mean(const NullModel& null) {
  switch (null.kind) {
    case NullKind::kBernoulli: return null.p;
    case NullKind::kExponential: return 1.0;
    case NullKind::kBinomial: return null.p * null.layers;
    case NullKind::kWeightedBits: {
      uint32_t total = 0;
      for (uint32_t l = 0; l < null.layers; ++l) total += tournament_weight(l, null.layers);
      return null.p * total;
    }
  }
  return 0;
}

const char* score_label(const SchemeParams& p) { return scheme_info(p.scheme).words(p).score_label; }
const char* score_column(const SchemeParams& p) { return scheme_info(p.scheme).words(p).score_column; }
const char* method_text(const SchemeParams& p) { return scheme_info(p.scheme).words(p).method; }

}  // namespace telltale
