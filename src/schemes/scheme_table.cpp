// The scheme table's entries: one per scheme, and one per scheme-specific parameter (telltale/scheme_table.hpp).
#include "telltale/scheme_table.hpp"

#include <iterator>

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

const SchemeInfo kSchemes[] = {
    {SchemeKind::kKgw, "kgw", "red/green bias (Kirchenbauer et al. 2023)", false},
    {SchemeKind::kGumbel, "gumbel", "Gumbel-max sampling (Aaronson 2022), distortion-free", true},
    {SchemeKind::kTournament, "tournament", "SynthID-style tournament sampling (Dathathri et al. 2024)", true},
    {SchemeKind::kFingerprint, "fingerprint", "kgw plus a layer that carries the account id", false},
};
static_assert(std::size(kSchemes) == std::size(kSchemeKinds));

}  // namespace

std::span<const SchemeField> scheme_fields() { return kFields; }

const SchemeField* find_scheme_field(std::string_view name) {
  for (const SchemeField& f : kFields) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::span<const SchemeInfo> scheme_table() { return kSchemes; }

const SchemeInfo& scheme_info(SchemeKind kind) {
  const auto i = static_cast<size_t>(kind);
  return kSchemes[i < std::size(kSchemes) ? i : 0];
}

const char* scheme_name(SchemeKind kind) {
  const auto i = static_cast<size_t>(kind);
  return i < std::size(kSchemes) ? kSchemes[i].name : "unknown";
}

std::optional<SchemeKind> parse_scheme(std::string_view name) {
  for (const SchemeInfo& s : kSchemes) {
    if (name == s.name) return s.kind;
  }
  return std::nullopt;
}

const char* scheme_name_list() { return "kgw, gumbel, tournament, fingerprint"; }

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

NullModel null_model(const SchemeParams& p) {
  switch (p.scheme) {
    case SchemeKind::kKgw:
    case SchemeKind::kFingerprint:  // its zero-bit layer, which is KGW
      return {NullKind::kBernoulli, kgw_layout(p.kgw.gamma).effective_gamma(), 1};
    case SchemeKind::kGumbel: return {NullKind::kExponential, 1.0, 1};
    case SchemeKind::kTournament:
      switch (p.tournament.score) {
        case TournamentScore::kMean: return {NullKind::kBinomial, 0.5, p.tournament.layers};
        case TournamentScore::kWeightedMean: return {NullKind::kWeightedBits, 0.5, p.tournament.layers};
      }
  }
  return {};  // unreachable for parameters that validate() accepts
}

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

const char* score_label(const SchemeParams& p) {
  switch (p.scheme) {
    case SchemeKind::kKgw: return "0 = red token, 1 = green token";
    case SchemeKind::kFingerprint: return "0 = red token, 1 = green token (the zero-bit layer)";
    case SchemeKind::kGumbel: return "per-token score -ln(1 - r)";
    case SchemeKind::kTournament:
      switch (p.tournament.score) {
        case TournamentScore::kMean: return "g-values equal to 1 per token";
        case TournamentScore::kWeightedMean: return "weighted sum of the g-values per token (weights 10..1)";
      }
  }
  return "score";
}

const char* score_column(const SchemeParams& p) {
  switch (p.scheme) {
    case SchemeKind::kKgw:
    case SchemeKind::kFingerprint: return "green";
    case SchemeKind::kGumbel: return "mean s";
    case SchemeKind::kTournament:
      switch (p.tournament.score) {
        case TournamentScore::kMean: return "g=1";
        case TournamentScore::kWeightedMean: return "w. g=1";
      }
  }
  return "score";
}

const char* method_text(const SchemeParams& p) {
  switch (p.scheme) {
    case SchemeKind::kKgw:
      return "When the text was generated, the secret key and the few tokens before each position split the "
             "vocabulary into a small \u201cgreen\u201d part and a \u201cred\u201d rest, and green tokens were made "
             "more likely. The test recomputes the split at every position with the key and counts green tokens. "
             "Text that never saw the key hits green only by chance (a fixed fraction, gamma), so the count follows "
             "a binomial law; the p-value is its exact upper tail.";
    case SchemeKind::kFingerprint:
      return "When the text was generated, it carried two marks. The first is the red/green watermark: the secret "
             "key and the few tokens before each position split the vocabulary into a small \u201cgreen\u201d part "
             "and a \u201cred\u201d rest, and green tokens were made more likely. The second layer carries the "
             "account's id and is read only when attributing text to an account. This test reads the first mark: it "
             "recomputes the split at every position with the key and counts green tokens. Text that never saw the "
             "key hits green only by chance (a fixed fraction, gamma), so the count follows a binomial law; the "
             "p-value is its exact upper tail.";
    case SchemeKind::kGumbel:
      return "When the text was generated, the secret key and the preceding tokens gave every vocabulary entry a "
             "pseudorandom number, and the token was drawn in a way that favours tokens with large numbers without "
             "changing the model's output distribution. The test recomputes each chosen token's number r and adds "
             "up \u2212ln(1\u00a0\u2212\u00a0r). Text that never saw the key gives a Gamma-distributed sum; the "
             "p-value is its exact upper tail.";
    case SchemeKind::kTournament:
      switch (p.tournament.score) {
        case TournamentScore::kMean:
          return "When the text was generated, each token won a tournament of several layers whose matches the "
                 "secret key decided (g-values). The test recomputes the g-values of every token and counts the "
                 "ones. Text that never saw the key gives fair coin flips, so the count is binomial; the p-value is "
                 "its exact upper tail.";
        case TournamentScore::kWeightedMean:
          return "When the text was generated, each token won a tournament of several layers whose matches the "
                 "secret key decided (g-values). The test recomputes the g-values of every token and adds them up "
                 "with fixed integer weights, from 10 for the first layer down to 1 for the last (SynthID's weighted "
                 "mean), because the early layers carry more of the signal. Text that never saw the key gives fair "
                 "coin flips, so the weighted sum follows a known law; the p-value is its upper tail, computed "
                 "exactly, or for long texts bounded from above (which can only understate the evidence).";
      }
  }
  return "";
}

}  // namespace telltale
