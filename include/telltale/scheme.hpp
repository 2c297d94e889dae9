// Scheme parameters: everything that changes a bit of generation or detection, recorded with every result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "telltale/status.hpp"

namespace telltale {

// The watermark families. The numeric values are part of the spec: they pick the KDF context string of a scheme's
// subkeys (spec/prf.md) and are tt_scheme in the C ABI. What each one is, for every boundary (names, parameters,
// null model, report text), is its entry in the scheme table (telltale/scheme_table.hpp).
enum class SchemeKind : uint32_t {
  kKgw = 0,
  kGumbel = 1,
  kTournament = 2,
  kFingerprint = 3,
#if defined(TELLTALE_TEST_SCHEME)
  kTestParity = 31,  // tests/test_scheme: only in the test library that shows docs/adding-a-scheme.md
#endif
};
inline constexpr SchemeKind kSchemeKinds[] = {
    SchemeKind::kKgw,        SchemeKind::kGumbel, SchemeKind::kTournament, SchemeKind::kFingerprint,
#if defined(TELLTALE_TEST_SCHEME)
    SchemeKind::kTestParity,
#endif
};

// "kgw", "gumbel", "tournament", "fingerprint": the name on the command line, in records, in describe().
const char* scheme_name(SchemeKind kind);
// The scheme a name gives; none for any other string.
std::optional<SchemeKind> parse_scheme(std::string_view name);

// Red/green bias (Kirchenbauer et al. 2023). An id is green for a step when its keystream value, read at `bits`
// bits per id, is below gamma * 2^bits; `bits` is the smallest of 1, 2, 4, 8, 16 that represents gamma exactly
// (otherwise 16, and gamma is rounded to the nearest multiple of 2^-16: see effective_gamma).
struct KgwParams {
  double gamma = 0.25;  // fraction of the vocabulary that is green, in (0, 1)
  float delta = 2.0f;   // added to green logits, in logits (natural-log units), >= 0
};

// Gumbel-max / exponential sampling (Aaronson 2022): token = argmax r_t^(1/p_t), r_t uniform from the keystream.
struct GumbelParams {};

// How the detector scores a tournament token (generation ignores it): the number of g-values that are 1 (mean
// score), or SynthID's weighted mean, sum_l w_l g_l with integer weights w_l = round(linspace(10, 1, m))
// (spec/synthid.md), which counts the early layers, where the tournament leaves more signal, more.
enum class TournamentScore : uint32_t { kMean = 0, kWeightedMean = 1 };

// The score's name on the command line, in records and in describe(): "mean" or "weighted-mean".
const char* tournament_score_name(TournamentScore score);
// The score a name gives; none for any other string.
std::optional<TournamentScore> parse_tournament_score(std::string_view name);

// The integer weight of layer `layer` (0-based) of `layers` in the weighted mean: round(10 - 9 layer / (m - 1)),
// SynthID's linspace(10, 1, m) rounded so that the null law of the weighted sum has an exact tail.
constexpr uint32_t tournament_weight(uint32_t layer, uint32_t layers) {
  if (layers <= 1) return 1;
  const uint32_t span = layers - 1;
  return 10 - (9 * layer * 2 + span) / (2 * span);  // 10 - round(9 layer / span), halves rounded up
}

// SynthID-style tournament sampling (Dathathri et al. 2024) with two-way matches: m layers of keyed g-values.
struct TournamentParams {
  uint32_t layers = 30;                            // m, 1..32
  TournamentScore score = TournamentScore::kMean;  // detection only
};

// Account fingerprint (spec/fingerprint.md): a zero-bit layer that is exactly KGW (the `kgw` parameters, KGW's own
// subkeys, so the plain KGW detector finds it) plus a multi-bit layer that carries the sequence's 32-bit account id:
// each step picks one of 65536 codeword positions from the context and adds `delta` to the ids whose keyed bit equals
// the account's codeword bit there. Left-hash seeding only.
struct FingerprintParams {
  float account_delta = 2.0f;  // added to the ids of the account's half of the vocabulary, in logits, >= 0
};

struct SchemeParams {
  SchemeKind scheme = SchemeKind::kKgw;
  uint32_t vocab_size = 0;     // the tokenizer's vocabulary; ids >= vocab_size are never favoured or scored
  uint32_t context_width = 4;  // h: tokens in the window that seeds a step, 1..16
  bool self_hash = false;      // seed with the last h-1 tokens plus the candidate itself
  // Generation-time de-duplication: a step whose context window was already watermarked in this sequence is left
  // unwatermarked (bias: row untouched; choose: plain sampling). The default for the distortion-free schemes.
  bool skip_repeated_contexts = false;
  uint32_t context_history = 1024;  // how many distinct contexts a sequence remembers for that rule
  KgwParams kgw;
  GumbelParams gumbel;
  TournamentParams tournament;
  FingerprintParams fingerprint;
};

// The defaults we recommend for each scheme (KGW: gamma 0.25, delta 2, h 4, left-hash).
SchemeParams default_params(SchemeKind scheme, uint32_t vocab_size);

// Checks ranges; the message names the offending parameter.
Status validate(const SchemeParams& params);

// Tokens of context a token needs before it can be scored or biased: h (left-hash) or h - 1 (self-hash). The one
// place this rule lives: the hook, the detector and the radioactivity windows all read it.
constexpr uint32_t window_size(const SchemeParams& params) {
  return params.self_hash ? params.context_width - 1 : params.context_width;
}

// Bits per id and threshold that KGW reads for this gamma, and the gamma they give exactly.
struct KgwLayout {
  unsigned bits = 2;
  uint32_t threshold = 1;  // green iff value < threshold
  double effective_gamma() const { return static_cast<double>(threshold) / static_cast<double>(1ull << bits); }
};
KgwLayout kgw_layout(double gamma);

// A one-line, stable description of the parameters (for reports and key commitments), e.g.
// "scheme=kgw gamma=0.25 delta=2 h=4 seeding=left-hash vocab=512 skip_repeated=0".
std::string describe(const SchemeParams& params);

}  // namespace telltale
