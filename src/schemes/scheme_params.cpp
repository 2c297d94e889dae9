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
  if (find_scheme(p.scheme) == nullptr) return invalid_argument("unknown scheme");
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
  TT_RETURN_IF_ERROR(scheme_info(p.scheme).validate(p));
  if (!parse_tournament_score(tournament_score_name(p.tournament.score))) {
    return invalid_argument("unknown tournament score");
  }
  if (!find_scheme_field("tournament_score")->applies_to(p.scheme) && p.tournament.score != TournamentScore::kMean) {
    return invalid_argument("the weighted-mean score is the tournament's only: other schemes take the mean score");
  }
  return Status::ok();
}

std::string describe(const SchemeParams& p) {
  char buf[256];
  scheme_info(p.scheme).describe(p, buf, sizeof buf);
  const char* seeding = p.self_hash ? "self-hash" : "left-hash";
  char tail[160];
  std::snprintf(tail, sizeof tail, " h=%u seeding=%s vocab=%u skip_repeated=%d history=%u", p.context_width, seeding,
                p.vocab_size, p.skip_repeated_contexts ? 1 : 0, p.context_history);
  return std::string(buf) + tail;
}

}  // namespace telltale
