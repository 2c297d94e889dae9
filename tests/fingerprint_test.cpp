// The fingerprint scheme's core: the account code (distance), the hook's two layers bit for bit, and its refusals.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "telltale.h"
#include "telltale/fingerprint.hpp"
#include "telltale/hook.hpp"
#include "verify_test_support.hpp"

using namespace telltale;

namespace {

SchemeParams fingerprint_params(uint32_t vocab = 512) {
  SchemeParams p = default_params(SchemeKind::kFingerprint, vocab);
  p.kgw.gamma = 0.25;
  p.kgw.delta = 2.0f;
  p.fingerprint.account_delta = 3.0f;
  return p;
}

int agreements(uint32_t a, uint32_t b) {
  int same = 0;
  for (uint32_t i = 0; i < kFingerprintSymbols; ++i) same += fingerprint_symbol(a, i) == fingerprint_symbol(b, i);
  return same;
}

}  // namespace

TEST_CASE("GF(2^8) multiplication is the AES field's (FIPS-197 example 57 x 83 = c1)", "[fingerprint]") {
  CHECK(gf256_mul(0x57, 0x83) == 0xc1);
  CHECK(gf256_mul(0x57, 0x13) == 0xfe);
  for (int a = 0; a < 256; ++a) {
    CHECK(gf256_mul(static_cast<uint8_t>(a), 1) == a);
    CHECK(gf256_mul(static_cast<uint8_t>(a), 0) == 0);
  }
}

TEST_CASE("two distinct account ids share at most 3 of their 256 code symbols", "[fingerprint]") {
  std::mt19937_64 rng(5);
  int worst = 0;
  for (int t = 0; t < 2000; ++t) {
    const auto a = static_cast<uint32_t>(rng());
    uint32_t b = static_cast<uint32_t>(rng());
    if (t % 4 == 1) b = a ^ (1u << (t % 32));  // one bit apart
    if (t % 4 == 2) b = a + 1;
    if (a == b) continue;
    worst = std::max(worst, agreements(a, b));
  }
  CHECK(worst <= 3);
  // The bound is tight: P_b = P_a + (x - 1)(x - 2)(x - 3) agrees with P_a at exactly x = 1, 2, 3.
  const uint8_t r1 = 1, r2 = 2, r3 = 3;
  const uint8_t c2 = r1 ^ r2 ^ r3;
  const uint8_t c1 = gf256_mul(r1, r2) ^ gf256_mul(r1, r3) ^ gf256_mul(r2, r3);
  const uint8_t c0 = gf256_mul(gf256_mul(r1, r2), r3);
  const uint32_t a = 123456789u;
  const uint32_t b = a ^ (uint32_t{1} << 24 | uint32_t{c2} << 16 | uint32_t{c1} << 8 | c0);
  CHECK(agreements(a, b) == 3);
  // Hadamard: distinct symbols' inner codewords agree on exactly half of the 256 bits.
  for (int s = 0; s < 256; s += 17) {
    for (int u = s + 1; u < 256; u += 29) {
      int same = 0;
      for (uint32_t y = 0; y < 256; ++y) {
        same += fingerprint_inner_bit(static_cast<uint8_t>(s), y) == fingerprint_inner_bit(static_cast<uint8_t>(u), y);
      }
      CHECK(same == 128);
    }
  }
}

TEST_CASE("account code vectors of spec/fingerprint.md", "[fingerprint]") {
  // Symbols of a few ids (P(0) = byte 0; P(1) = XOR of the 4 bytes); checked by an independent Python version.
  CHECK(fingerprint_symbol(0x04030201u, 0) == 0x01);
  CHECK(fingerprint_symbol(0x04030201u, 1) == 0x04);
  CHECK(fingerprint_symbol(0x04030201u, 2) == 0x29);
  CHECK(fingerprint_symbol(0x04030201u, 255) == 0x06);
  CHECK(fingerprint_symbol(4000000000u, 7) == 0xa1);
  CHECK(fingerprint_codeword_bit(0x04030201u, 0x0203) == 1);  // symbol 2 = 0x29, inner 3: parity(0x29 & 3) = 1
}

TEST_CASE("the fingerprint hook adds delta to green ids and account-delta to the account's half, nothing else",
          "[fingerprint]") {
  const KeyRing keys = test::fixed_key(71);
  const SchemeParams params = fingerprint_params();
  auto hook = Hook::create(keys, params);
  REQUIRE(hook.is_ok());
  auto det = Detector::create(keys, params);
  REQUIRE(det.is_ok());
  SchemeParams kgw_params = params;
  kgw_params.scheme = SchemeKind::kKgw;
  auto kgw = Detector::create(keys, kgw_params);  // the plain KGW detector
  REQUIRE(kgw.is_ok());
  for (uint32_t account : {0u, 17u, 4000000000u}) {
    auto seq = hook->new_sequence(account, 1);
    REQUIRE(seq.is_ok());
    const std::vector<int32_t> context = {11, 12, 13, 14};
    for (int32_t t : context) seq->accept(t);
    std::vector<float> row(512, 0.0f);
    SeqState* rows[] = {&*seq};
    REQUIRE(hook->bias(rows, LogitsView{row.data(), 1, 512, 512}).is_ok());
    int green = 0, favoured = 0;
    for (int32_t id = 0; id < 512; ++id) {
      std::vector<int32_t> tokens = context;
      tokens.push_back(id);
      uint32_t mark = 0;
      REQUIRE(det->account_marks(tokens, 4, {&mark, 1}).is_ok());
      const bool is_green = kgw->score(context, id) > 0.5;
      CHECK(det->score(context, id) == kgw->score(context, id));  // the zero-bit layer is KGW exactly
      const bool is_favoured = (mark & 1u) == fingerprint_codeword_bit(account, mark >> 1);
      green += is_green;
      favoured += is_favoured;
      const float expected = (is_green ? 2.0f : 0.0f) + (is_favoured ? 3.0f : 0.0f);
      CHECK(row[static_cast<size_t>(id)] == expected);
    }
    // Each id is green with probability 1/4 and favoured with 1/2: loose sanity bounds (6 sigma).
    CHECK(std::abs(green - 128) < 60);
    CHECK(std::abs(favoured - 256) < 70);
    // The candidates path gives the same bits.
    auto seq2 = hook->new_sequence(account, 1);
    for (int32_t t : context) seq2->accept(t);
    std::vector<int32_t> ids(512);
    std::vector<float> logits(512, 0.0f);
    for (int i = 0; i < 512; ++i) ids[static_cast<size_t>(i)] = 511 - i;
    REQUIRE(hook->bias_candidates(*seq2, CandidatesView{ids.data(), logits.data(), 512}).is_ok());
    for (int i = 0; i < 512; ++i) CHECK(logits[static_cast<size_t>(i)] == row[static_cast<size_t>(511 - i)]);
  }
}

TEST_CASE("the fingerprint scheme refuses 33-bit account ids and self-hash seeding", "[fingerprint]") {
  const KeyRing keys = test::fixed_key(72);
  auto hook = Hook::create(keys, fingerprint_params());
  REQUIRE(hook.is_ok());
  CHECK(hook->new_sequence(0xffffffffull, 0).is_ok());
  auto bad = hook->new_sequence(0x100000000ull, 0);
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("32-bit") != std::string::npos);
  SchemeParams p = fingerprint_params();
  p.self_hash = true;
  CHECK(validate(p).code() == StatusCode::kInvalidArgument);
  p = fingerprint_params();
  p.fingerprint.account_delta = -1.0f;
  CHECK(validate(p).code() == StatusCode::kInvalidArgument);
  auto kgw_det = Detector::create(keys, default_params(SchemeKind::kKgw, 512));
  std::vector<int32_t> tokens = {1, 2, 3, 4, 5};
  uint32_t mark = 0;
  CHECK(kgw_det->account_marks(tokens, 4, {&mark, 1}).code() == StatusCode::kUnsupported);
}

TEST_CASE("account-layer marks of spec/fingerprint.md section 8 (test secret 00..1f)", "[fingerprint]") {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i);
  const KeyRing keys = KeyRing::from_secret(secret).value();
  auto det = Detector::create(keys, default_params(SchemeKind::kFingerprint, 151936));
  REQUIRE(det.is_ok());
  // Window [403, 407, 261, 378]: position 1898 (0x76a); the token's bit is keystream bit `token` under the account
  // layer's nonce. mark = position << 1 | bit. Reproduced by an independent Python implementation (spec section 8).
  const std::vector<std::pair<int32_t, uint32_t>> expected = {{0, 3796}, {2, 3797},   {4, 3797},
                                                              {5, 3796}, {261, 3796}, {100000, 3796}};
  for (const auto& [token, mark] : expected) {
    std::vector<int32_t> tokens = {403, 407, 261, 378, token};
    uint32_t got = 0;
    REQUIRE(det->account_marks(tokens, 4, {&got, 1}).is_ok());
    INFO("token " << token << ": position " << (got >> 1) << " bit " << (got & 1));
    CHECK(got == mark);
  }
}

TEST_CASE("the C ABI runs the fingerprint scheme with one account per row", "[fingerprint]") {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(73 + i);
  tt_keyring* keys = nullptr;
  REQUIRE(tt_keyring_from_secret(secret.data(), secret.size(), &keys) == TT_OK);
  tt_params params = tt_params_default(TT_SCHEME_FINGERPRINT, 512);
  CHECK(params.account_delta == 2.0f);
  params.account_delta = 3.0f;
  tt_hook* hook = nullptr;
  REQUIRE(tt_hook_create(keys, &params, &hook) == TT_OK);
  tt_seq* bad = nullptr;
  CHECK(tt_seq_create(hook, 0x100000000ull, 0, &bad) == TT_ERR_INVALID_ARGUMENT);
  tt_seq* rows[2] = {nullptr, nullptr};
  REQUIRE(tt_seq_create(hook, 17, 1, &rows[0]) == TT_OK);
  REQUIRE(tt_seq_create(hook, 4000000000ull, 1, &rows[1]) == TT_OK);
  for (tt_seq* s : rows) {
    for (int32_t t : {11, 12, 13, 14}) tt_seq_accept(s, t);
  }
  std::vector<float> logits(2 * 512, 0.0f);
  REQUIRE(tt_hook_bias(hook, rows, tt_logits_view{logits.data(), 2, 512, 512}, 0) == TT_OK);
  // Same context, different accounts: the zero-bit layer (+2) is the same; the account layer (+3) favours the same
  // half when the two codewords agree at the step's position, and the complementary half when they do not.
  auto det = Detector::create(KeyRing::from_secret(secret).value(), [&] {
    SchemeParams p = default_params(SchemeKind::kFingerprint, 512);
    p.fingerprint.account_delta = 3.0f;
    return p;
  }());
  REQUIRE(det.is_ok());
  std::vector<int32_t> tokens = {11, 12, 13, 14, 0};
  uint32_t mark = 0;
  REQUIRE(det->account_marks(tokens, 4, {&mark, 1}).is_ok());
  const bool same_half = fingerprint_codeword_bit(17, mark >> 1) == fingerprint_codeword_bit(4000000000u, mark >> 1);
  int same = 0;
  for (size_t v = 0; v < 512; ++v) {
    const float a = logits[v], b = logits[512 + v];
    CHECK((a >= 2.0f && a != 3.0f) == (b >= 2.0f && b != 3.0f));  // green: 2 or 5
    same += std::fmod(a, 2.0f) == std::fmod(b, 2.0f);             // the account layer's 3 is odd
  }
  CHECK(same == (same_half ? 512 : 0));
  for (tt_seq* s : rows) tt_seq_free(s);
  tt_hook_free(hook);
  tt_keyring_free(keys);
}
