// What the test-vector tests share: the vectors file, the test secret, hex and bit helpers, and SchemeParams read
// back from the vectors' "params" objects (tools/vectors_core.cpp writes them).
#pragma once

#include <sodium.h>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "telltale.h"
#include "telltale/telltale.hpp"
#include "test_paths.hpp"

namespace telltale::test {

inline nlohmann::json load_vectors() {
  std::ifstream in(std::string(kSourceDir) + "/spec/test-vectors.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

inline std::string hex(const uint8_t* p, size_t n) {
  std::string s(2 * n + 1, '\0');
  sodium_bin2hex(s.data(), s.size(), p, n);
  s.pop_back();  // the terminating NUL
  return s;
}

inline uint64_t from_hex64(const std::string& s) { return std::stoull(s, nullptr, 16); }

inline std::vector<uint8_t> test_secret() {
  std::vector<uint8_t> s(32);
  for (size_t i = 0; i < 32; ++i) s[i] = static_cast<uint8_t>(i);
  return s;
}

// The test secret's key ring, for the C++ API and for the C ABI.
class TestKeys {
 public:
  TestKeys() : ring_(KeyRing::from_secret(test_secret())) {
    REQUIRE(ring_);
    const auto secret = test_secret();
    REQUIRE(tt_keyring_from_secret(secret.data(), secret.size(), &c_) == TT_OK);
  }
  TestKeys(const TestKeys&) = delete;
  TestKeys& operator=(const TestKeys&) = delete;
  ~TestKeys() { tt_keyring_free(c_); }
  const KeyRing& ring() const { return *ring_; }
  const tt_keyring* c() const { return c_; }

 private:
  Result<KeyRing> ring_;
  tt_keyring* c_ = nullptr;
};

// A hook of the vectors' key; the test fails if `params` are refused.
inline Hook vectors_hook(const TestKeys& keys, const SchemeParams& params) {
  auto hook = Hook::create(keys.ring(), params);
  REQUIRE(hook);
  return std::move(hook).value();
}

// Through the C ABI: a hook of the vectors' key and a sequence of it (rng_seed 1) into which the ids of `context` were
// accepted, freed at the end of the scope.
class PrimedC {
 public:
  PrimedC(const TestKeys& keys, const tt_params& params, const std::vector<int32_t>& context) {
    REQUIRE(tt_hook_create(keys.c(), &params, &hook_) == TT_OK);
    REQUIRE(tt_seq_create(hook_, 0, 1, &seq_) == TT_OK);
    for (int32_t t : context) tt_seq_accept(seq_, t);
  }
  PrimedC(const PrimedC&) = delete;
  PrimedC& operator=(const PrimedC&) = delete;
  ~PrimedC() {
    tt_seq_free(seq_);
    tt_hook_free(hook_);
  }
  tt_hook* hook() const { return hook_; }
  tt_seq* seq() const { return seq_; }

 private:
  tt_hook* hook_ = nullptr;
  tt_seq* seq_ = nullptr;
};

// A new sequence of `hook` (rng_seed 1, `account`) into which the ids of `context` were accepted.
inline SeqState primed_sequence(const Hook& hook, const std::vector<int32_t>& context, uint64_t account = 0) {
  auto seq = hook.new_sequence(account, 1);
  REQUIRE(seq);
  for (int32_t t : context) seq->accept(t);
  return std::move(seq).value();
}

inline float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline std::vector<float> floats_from_bits(const nlohmann::json& bits) {
  std::vector<float> out;
  for (uint32_t b : bits.get<std::vector<uint32_t>>()) out.push_back(from_bits(b));
  return out;
}

inline SchemeKind scheme_of(const std::string& name) {
  for (SchemeKind k : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament, SchemeKind::kFingerprint}) {
    if (name == scheme_name(k)) return k;
  }
  FAIL("unknown scheme name in the vectors: " << name);
  return SchemeKind::kKgw;
}

inline SchemeParams params_from_json(const nlohmann::json& j) {
  SchemeParams p = default_params(scheme_of(j["scheme"]), j["vocab_size"]);
  p.context_width = j["context_width"];
  p.self_hash = j["self_hash"];
  p.skip_repeated_contexts = j["skip_repeated_contexts"];
  p.context_history = j["context_history"];
  p.kgw.gamma = j["gamma"];
  p.kgw.delta = static_cast<float>(j["delta"].get<double>());
  p.fingerprint.account_delta = static_cast<float>(j["account_delta"].get<double>());
  p.tournament.layers = j["layers"];
  const auto score = parse_tournament_score(j["score"].get<std::string>());
  REQUIRE(score.has_value());
  p.tournament.score = *score;
  return p;
}

// The same parameters for the C ABI (the tournament score goes to tt_detector_create_scored).
inline tt_params c_params(const SchemeParams& p) {
  tt_params c = tt_params_default(static_cast<tt_scheme>(p.scheme), p.vocab_size);
  c.context_width = p.context_width;
  c.self_hash = p.self_hash;
  c.skip_repeated_contexts = p.skip_repeated_contexts;
  c.context_history = p.context_history;
  c.gamma = p.kgw.gamma;
  c.delta = p.kgw.delta;
  c.tournament_layers = p.tournament.layers;
  c.account_delta = p.fingerprint.account_delta;
  return c;
}

// ln p values are specified by accuracy (spec/statistics.md 1): within 1e-10 absolute or 1e-12 relative.
inline bool ln_p_close(double got, double want) {
  return std::fabs(got - want) <= std::max(1e-10, 1e-12 * std::fabs(want));
}

}  // namespace telltale::test
