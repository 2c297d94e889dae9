// Scheme parameters: defaults, validation, the KGW bit layout, and the one-line description recorded in reports.
#include <cmath>
#include <cstdio>

#include "telltale/prf.hpp"
#include "telltale/scheme.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale {

SchemeParams default_params(SchemeKind scheme, uint32_t vocab_size) {
  SchemeParams p;
  p.scheme = scheme;
  p.vocab_size = vocab_size;
  p.context_width = 4;
  p.skip_repeated_contexts = scheme_info(scheme).skip_repeated_by_default;
  return p;
}

KgwLayout kgw_layout(double gamma) {
  KgwLayout layout;
  for (unsigned bits : {1u, 2u, 4u, 8u, 16u}) {
    const double scaled = gamma * static_cast<double>(1u << bits);
    if (scaled == std::floor(scaled)) {
      layout.bits = bits;
      layout.threshold = static_cast<uint32_t>(scaled);
      return layout;
    }
  }
  layout.bits = 16;
  const double scaled = std::nearbyint(gamma * 65536.0);
  layout.threshold = static_cast<uint32_t>(scaled < 1 ? 1 : (scaled > 65535 ? 65535 : scaled));
  return layout;
}

Status validate(const SchemeParams& p) {
  if (!parse_scheme(scheme_name(p.scheme))) return invalid_argument("unknown scheme");
  if (p.vocab_size < 2 || p.vocab_size > (1u << 30)) return invalid_argument("vocab_size must be in [2, 2^30]");
  if (p.context_width < 1 || p.context_width > kMaxContextWidth) {
    return invalid_argument("context_width (h) must be in [1, 16]");
  }
  if (p.skip_repeated_contexts && (p.context_history < 1 || p.context_history > (1u << 20))) {
    return invalid_argument("context_history must be in [1, 2^20]");
  }
  if (p.self_hash && p.context_width == 1 && p.skip_repeated_contexts) {
    // The self-hash window then holds no earlier token: every step has the same (empty) context and would be skipped.
    return invalid_argument("skip_repeated_contexts needs h >= 2 with self-hash seeding (h = 1 has no context)");
  }
  if (p.scheme == SchemeKind::kFingerprint) {
    if (p.self_hash) return invalid_argument("the fingerprint scheme uses left-hash seeding (self_hash must be off)");
    if (!(p.fingerprint.account_delta >= 0 && p.fingerprint.account_delta <= 1000)) {
      return invalid_argument("the account layer's delta must be in [0, 1000] logits");
    }
  }
  if (p.scheme == SchemeKind::kKgw || p.scheme == SchemeKind::kFingerprint) {
    if (!(p.kgw.gamma > 0 && p.kgw.gamma < 1)) return invalid_argument("gamma must be in (0, 1)");
    if (!(p.kgw.delta >= 0 && p.kgw.delta <= 1000)) return invalid_argument("delta must be in [0, 1000] logits");
  }
  if (p.scheme == SchemeKind::kTournament && (p.tournament.layers < 1 || p.tournament.layers > 32)) {
    return invalid_argument("tournament layers must be in [1, 32]");
  }
  if (!parse_tournament_score(tournament_score_name(p.tournament.score))) {
    return invalid_argument("unknown tournament score");
  }
  if (p.scheme != SchemeKind::kTournament && p.tournament.score != TournamentScore::kMean) {
    return invalid_argument("the weighted-mean score is the tournament's only: other schemes take the mean score");
  }
  return Status::ok();
}

std::string describe(const SchemeParams& p) {
  char buf[256] = "scheme=unknown";
  const char* seeding = p.self_hash ? "self-hash" : "left-hash";
  switch (p.scheme) {
    case SchemeKind::kKgw:
      std::snprintf(buf, sizeof buf, "scheme=kgw gamma=%.17g effective_gamma=%.17g delta=%.9g", p.kgw.gamma,
                    kgw_layout(p.kgw.gamma).effective_gamma(), static_cast<double>(p.kgw.delta));
      break;
    case SchemeKind::kFingerprint:
      std::snprintf(buf, sizeof buf,
                    "scheme=fingerprint gamma=%.17g effective_gamma=%.17g delta=%.9g account_delta=%.9g", p.kgw.gamma,
                    kgw_layout(p.kgw.gamma).effective_gamma(), static_cast<double>(p.kgw.delta),
                    static_cast<double>(p.fingerprint.account_delta));
      break;
    case SchemeKind::kTournament:
      std::snprintf(buf, sizeof buf, "scheme=tournament layers=%u%s%s", p.tournament.layers,
                    p.tournament.score == TournamentScore::kMean ? "" : " score=",
                    p.tournament.score == TournamentScore::kMean ? "" : tournament_score_name(p.tournament.score));
      break;
    case SchemeKind::kGumbel: std::snprintf(buf, sizeof buf, "scheme=gumbel"); break;
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, " h=%u seeding=%s vocab=%u skip_repeated=%d history=%u", p.context_width, seeding,
                p.vocab_size, p.skip_repeated_contexts ? 1 : 0, p.context_history);
  return std::string(buf) + tail;
}

}  // namespace telltale
