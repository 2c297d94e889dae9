// Test-vector sections on the keys and the parameters: every subkey, describe() and validate() of varied
// parameters, context fingerprints, and per-token scores at the edges (other bit widths, layers, ids outside the
// vocabulary, negative ids). spec/prf.md section 8.2 says how to check each.
#include <sodium.h>

#include <cstring>

#include "vectors.hpp"

using nlohmann::json;

namespace telltale::vectors {

std::string hex(const uint8_t* p, size_t n) {
  std::string s(2 * n + 1, '\0');
  sodium_bin2hex(s.data(), s.size(), p, n);
  s.pop_back();  // the terminating NUL
  return s;
}

std::string hex64(uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  return hex(b, 8);
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

std::vector<uint32_t> row_bits(std::span<const float> row) {
  std::vector<uint32_t> out;
  for (float f : row) out.push_back(float_bits(f));
  return out;
}

json params_json(const SchemeParams& p) {
  return {{"scheme", scheme_name(p.scheme)},
          {"vocab_size", p.vocab_size},
          {"context_width", p.context_width},
          {"self_hash", p.self_hash},
          {"skip_repeated_contexts", p.skip_repeated_contexts},
          {"context_history", p.context_history},
          {"gamma", p.kgw.gamma},
          {"delta", static_cast<double>(p.kgw.delta)},
          {"account_delta", static_cast<double>(p.fingerprint.account_delta)},
          {"layers", p.tournament.layers},
          {"score", tournament_score_name(p.tournament.score)}};
}

namespace {

std::vector<SchemeParams> describe_cases() {
  std::vector<SchemeParams> c;
  c.push_back(default_params(SchemeKind::kKgw, 151936));
  SchemeParams p = default_params(SchemeKind::kKgw, 151936);
  p.kgw.gamma = 0.3;
  p.kgw.delta = 0.1f;
  p.self_hash = true;
  c.push_back(p);
  p = default_params(SchemeKind::kKgw, 2);
  p.kgw.gamma = 1e-5;  // below one grid step: threshold clamped to 1
  p.kgw.delta = 1000.0f;
  p.context_width = 16;
  p.skip_repeated_contexts = true;
  p.context_history = 7;
  c.push_back(p);
  c.push_back(default_params(SchemeKind::kGumbel, 151936));
  c.push_back(default_params(SchemeKind::kTournament, 151936));
  p = default_params(SchemeKind::kTournament, 1u << 30);
  p.tournament.layers = 12;
  p.tournament.score = TournamentScore::kWeightedMean;
  c.push_back(p);
  c.push_back(default_params(SchemeKind::kFingerprint, 32000));
  p = default_params(SchemeKind::kFingerprint, 32000);
  p.kgw.gamma = 0.125;
  p.kgw.delta = 1.5f;
  p.fingerprint.account_delta = 0.25f;
  p.context_width = 2;
  c.push_back(p);
  return c;
}

// One parameter set per validate() rule (spec/prf.md 7.1), each breaking only that rule.
std::vector<SchemeParams> refused_cases() {
  std::vector<SchemeParams> c;
  SchemeParams p = default_params(SchemeKind::kKgw, 1);
  c.push_back(p);
  p = default_params(SchemeKind::kKgw, 64);
  p.context_width = 17;
  c.push_back(p);
  p = default_params(SchemeKind::kGumbel, 64);
  p.context_history = 0;
  c.push_back(p);
  p = default_params(SchemeKind::kTournament, 64);
  p.self_hash = true;
  p.context_width = 1;
  c.push_back(p);
  p = default_params(SchemeKind::kFingerprint, 64);
  p.self_hash = true;
  c.push_back(p);
  p = default_params(SchemeKind::kFingerprint, 64);
  p.fingerprint.account_delta = 1001.0f;
  c.push_back(p);
  p = default_params(SchemeKind::kKgw, 64);
  p.kgw.gamma = 1.0;
  c.push_back(p);
  p = default_params(SchemeKind::kKgw, 64);
  p.kgw.delta = -1.0f;
  c.push_back(p);
  p = default_params(SchemeKind::kTournament, 64);
  p.tournament.layers = 33;
  c.push_back(p);
  return c;
}

struct ScoreCase {
  const char* name;
  SchemeParams params;
};

std::vector<ScoreCase> edge_score_cases() {
  std::vector<ScoreCase> c;
  SchemeParams p = default_params(SchemeKind::kKgw, 151936);
  p.kgw.gamma = 0.125;
  c.push_back({"kgw-gamma0.125-b4", p});
  p.kgw.gamma = 3.0 / 256;
  c.push_back({"kgw-gamma3/256-b8", p});
  p = default_params(SchemeKind::kTournament, 151936);
  p.tournament.layers = 12;
  c.push_back({"tournament-m12", p});
  p.tournament.layers = 32;
  c.push_back({"tournament-m32", p});
  p.tournament.layers = 12;
  p.tournament.score = TournamentScore::kWeightedMean;
  c.push_back({"tournament-m12-weighted-mean", p});
  c.push_back({"gumbel", default_params(SchemeKind::kGumbel, 151936)});
  return c;
}

}  // namespace

Status add_core_sections(json& out, const KeyRing& ring) {
  for (SchemeKind kind : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament, SchemeKind::kFingerprint}) {
    uint8_t k[3][16];
    for (int purpose = 1; purpose <= 3; ++purpose) {
      if (auto s = ring.derive(kind, static_cast<KeyPurpose>(purpose), 0, k[purpose - 1]); !s) return s;
    }
    out["account_subkeys"].push_back({{"scheme", scheme_name(kind)},
                                      {"seeder", hex(k[0], 16)},
                                      {"keystream", hex(k[1], 16)},
                                      {"account", hex(k[2], 16)}});
  }
  for (const SchemeParams& p : describe_cases()) {
    if (auto s = validate(p); !s) return s;
    out["describe"].push_back({{"params", params_json(p)}, {"string", describe(p)}});
  }
  for (const SchemeParams& p : refused_cases()) {
    const Status s = validate(p);
    if (s) return invalid_argument("a params_refused case passes validate");
    out["params_refused"].push_back({{"params", params_json(p)}, {"message", s.message()}});
  }

  uint8_t seeder_key[16];
  if (auto s = ring.derive(SchemeKind::kKgw, KeyPurpose::kSeeder, 0, seeder_key); !s) return s;
  const Seeder seeder(std::span<const uint8_t, 16>(seeder_key, 16));
  const std::vector<std::vector<int32_t>> windows = {{}, {7}, {7, 8, 9}, {11, 12, 13, 14}, {-1, 151936, 0}};
  for (const auto& w : windows) {
    out["context_fingerprints"].push_back({{"window", w}, {"fingerprint", hex64(seeder.left_hash(w).fingerprint())}});
  }

  const std::vector<int32_t> window = {403, 407, 261, 378};
  for (const ScoreCase& c : edge_score_cases()) {
    auto det = Detector::create(ring, c.params);
    if (!det) return det.status();
    json entry{{"name", c.name}, {"params", params_json(c.params)}};
    for (int32_t token : {0, 5, 261, 100000, 151935, 151936, 200000, -1, -5}) {
      json v{{"window", window}, {"token", token}, {"score", det->score(window, token)}};
      if (c.params.scheme == SchemeKind::kTournament) v["g_values"] = det->g_values(window, token);
      entry["scores"].push_back(v);
    }
    out["scores_edge_cases"].push_back(entry);
  }
  return Status::ok();
}

}  // namespace telltale::vectors
