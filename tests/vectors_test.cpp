// spec/test-vectors.json is the normative behaviour: the C++ API and the C ABI must both reproduce every entry.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "radio/context_filter.hpp"
#include "score/partial_file.hpp"
#include "telltale.h"
#include "telltale/telltale.hpp"
#include "test_paths.hpp"
#include "vector_files.hpp"
#include "vectors_test_support.hpp"

using nlohmann::json;
using namespace telltale;
using namespace telltale::test;

TEST_CASE("the key id and subkeys match the test vectors", "[vectors]") {
  const json v = load_vectors();
  auto ring = KeyRing::from_secret(test_secret());
  REQUIRE(ring);
  CHECK(ring->key_id_hex() == v["key_id"].get<std::string>());
  for (const auto& e : v["subkeys"]) {
    uint8_t seeder[16], ks[16];
    const SchemeKind kind = scheme_of(e["scheme"]);
    REQUIRE(ring->derive(kind, KeyPurpose::kSeeder, 0, seeder));
    REQUIRE(ring->derive(kind, KeyPurpose::kKeystream, 0, ks));
    CHECK(hex(seeder, 16) == e["seeder"].get<std::string>());
    CHECK(hex(ks, 16) == e["keystream"].get<std::string>());
  }
}

TEST_CASE("seeds and keystream blocks match the test vectors", "[vectors]") {
  const json v = load_vectors();
  auto ring = KeyRing::from_secret(test_secret());
  REQUIRE(ring);
  uint8_t seeder_key[16], ks_key[16];
  REQUIRE(ring->derive(SchemeKind::kKgw, KeyPurpose::kSeeder, 0, seeder_key));
  REQUIRE(ring->derive(SchemeKind::kKgw, KeyPurpose::kKeystream, 0, ks_key));
  Seeder seeder(std::span<const uint8_t, 16>(seeder_key, 16));
  auto ks = Keystream::create(std::span<const uint8_t, 16>(ks_key, 16));
  REQUIRE(ks);
  for (const auto& e : v["seeds"]) {
    const auto window = e["window"].get<std::vector<int32_t>>();
    const StepSeed left = seeder.left_hash(window);
    CHECK(hex(left.nonce.data(), 12) == e["left_hash_nonce"].get<std::string>());
    const auto self_window = e["self_hash_window"].get<std::vector<int32_t>>();
    const StepSeed self = seeder.self_hash(self_window, e["self_hash_candidate"].get<int32_t>());
    CHECK(hex(self.nonce.data(), 12) == e["self_hash_nonce"].get<std::string>());
    uint8_t block[16];
    ks->blocks(left, 0, 1, block);
    CHECK(hex(block, 16) == e["block_0"].get<std::string>());
    ks->blocks(left, 1000, 1, block);
    CHECK(hex(block, 16) == e["block_1000"].get<std::string>());
  }
}

TEST_CASE("keystream block 0 equals AES-128 of nonce||be32(0) computed by the openssl command", "[vectors]") {
  const json v = load_vectors();
  std::string ks_key;
  for (const auto& e : v["subkeys"]) {
    if (e["scheme"] == "kgw") ks_key = e["keystream"];
  }
  const auto& first = v["seeds"][0];
  const std::string input_hex = first["left_hash_nonce"].get<std::string>() + "00000000";
  std::string cmd = "printf '";
  for (size_t i = 0; i < input_hex.size(); i += 2) {
    char oct[8];  // /bin/sh's printf knows octal escapes, not \x
    std::snprintf(oct, sizeof oct, "\\%03o", static_cast<unsigned>(std::stoul(input_hex.substr(i, 2), nullptr, 16)));
    cmd += oct;
  }
  cmd += "' | openssl enc -aes-128-ecb -nopad -K " + ks_key + " | od -An -tx1 | tr -d ' \\n'";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char out[128] = {0};
  REQUIRE(std::fgets(out, sizeof out, p) != nullptr);
  ::pclose(p);
  CHECK(std::string(out) == first["block_0"].get<std::string>());
}

TEST_CASE("per-token scores match the test vectors through the C++ API and the C ABI", "[vectors]") {
  const json v = load_vectors();
  auto ring = KeyRing::from_secret(test_secret());
  REQUIRE(ring);
  const auto secret = test_secret();
  tt_keyring* ckeys = nullptr;
  REQUIRE(tt_keyring_from_secret(secret.data(), secret.size(), &ckeys) == TT_OK);
  const std::vector<std::pair<std::string, SchemeParams>> cases = [] {
    std::vector<std::pair<std::string, SchemeParams>> c;
    SchemeParams p = default_params(SchemeKind::kKgw, 151936);
    c.emplace_back("kgw-gamma0.25-h4-left", p);
    p.kgw.gamma = 0.5;
    p.context_width = 1;
    c.emplace_back("kgw-gamma0.5-h1-left", p);
    p = default_params(SchemeKind::kKgw, 151936);
    p.kgw.gamma = 0.3;
    p.self_hash = true;
    c.emplace_back("kgw-gamma0.3-h4-self", p);
    c.emplace_back("gumbel-h4-left", default_params(SchemeKind::kGumbel, 151936));
    c.emplace_back("tournament-m30-h4-left", default_params(SchemeKind::kTournament, 151936));
    return c;
  }();
  size_t checked = 0;
  for (const auto& entry : v["schemes"]) {
    const std::string name = entry["name"];
    const SchemeParams* params = nullptr;
    for (const auto& [n, p] : cases) {
      if (n == name) params = &p;
    }
    REQUIRE(params != nullptr);
    CHECK(entry["params"].get<std::string>() == describe(*params));
    auto det = Detector::create(*ring, *params);
    REQUIRE(det);
    tt_params cp = tt_params_default(static_cast<tt_scheme>(params->scheme), params->vocab_size);
    cp.context_width = params->context_width;
    cp.self_hash = params->self_hash;
    cp.gamma = params->kgw.gamma;
    tt_detector* cdet = nullptr;
    REQUIRE(tt_detector_create(ckeys, &cp, &cdet) == TT_OK);
    for (const auto& s : entry["scores"]) {
      const auto w = s["window"].get<std::vector<int32_t>>();
      const int32_t token = s["token"];
      const double expected = s["score"];
      CHECK(det->score(w, token) == expected);
      double c_score = -1;
      REQUIRE(tt_detector_score(cdet, w.data(), w.size(), token, &c_score) == TT_OK);
      CHECK(c_score == expected);
      if (s.contains("g_values")) CHECK(det->g_values(w, token) == s["g_values"].get<uint32_t>());
      ++checked;
    }
    tt_detector_free(cdet);
  }
  CHECK(checked == 5 * 5 + 4 * 4 * 5);  // the one-token seed window is a full window only for h = 1
  tt_keyring_free(ckeys);
}

TEST_CASE("the C ABI scores the tournament by its weighted mean when asked, and only the tournament", "[vectors]") {
  const auto secret = test_secret();
  auto ring = KeyRing::from_secret(secret);
  REQUIRE(ring);
  tt_keyring* ckeys = nullptr;
  REQUIRE(tt_keyring_from_secret(secret.data(), secret.size(), &ckeys) == TT_OK);
  SchemeParams p = default_params(SchemeKind::kTournament, 151936);
  p.tournament.layers = 12;
  auto det = Detector::create(*ring, p);  // mean score: g_values gives the layer bits
  REQUIRE(det);
  tt_params cp = tt_params_default(TT_SCHEME_TOURNAMENT, 151936);
  cp.tournament_layers = 12;
  tt_detector* weighted = nullptr;
  tt_detector* mean = nullptr;
  REQUIRE(tt_detector_create_scored(ckeys, &cp, TT_TOURNAMENT_WEIGHTED_MEAN, &weighted) == TT_OK);
  REQUIRE(tt_detector_create(ckeys, &cp, &mean) == TT_OK);
  int differ = 0;
  for (int32_t token = 0; token < 64; ++token) {
    const std::vector<int32_t> w{7, 8, 9, token * 3};
    const uint32_t bits = det->g_values(w, token);
    double expected = 0;
    for (uint32_t l = 0; l < 12; ++l) expected += ((bits >> l) & 1u) * tournament_weight(l, 12);
    double got = -1, got_mean = -1;
    REQUIRE(tt_detector_score(weighted, w.data(), w.size(), token, &got) == TT_OK);
    REQUIRE(tt_detector_score(mean, w.data(), w.size(), token, &got_mean) == TT_OK);
    CHECK(got == expected);
    CHECK(got_mean == det->score(w, token));
    differ += got != got_mean;
  }
  CHECK(differ > 0);  // the two scores are different statistics
  tt_detector_free(weighted);
  tt_detector_free(mean);

  tt_detector* bad = nullptr;
  tt_params kgw = tt_params_default(TT_SCHEME_KGW, 151936);
  CHECK(tt_detector_create_scored(ckeys, &kgw, TT_TOURNAMENT_WEIGHTED_MEAN, &bad) == TT_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tt_last_error()).find("tournament") != std::string::npos);
  CHECK(tt_detector_create_scored(ckeys, &cp, 7, &bad) == TT_ERR_INVALID_ARGUMENT);
  CHECK(bad == nullptr);
  tt_keyring_free(ckeys);
}

TEST_CASE("one hook step matches the test vectors through the C++ API and the C ABI", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  for (const auto& step : v["hook_steps"]) {
    const SchemeKind kind = scheme_of(step["scheme"]);
    const uint32_t vocab = step["vocab"];
    std::vector<float> logits;
    for (uint32_t b : step["logits_bits"].get<std::vector<uint32_t>>()) logits.push_back(from_bits(b));
    const auto context = step["context"].get<std::vector<int32_t>>();
    const float u = step["uniform"].get<float>();

    const Hook hook = vectors_hook(keys, default_params(kind, vocab));
    SeqState seq = primed_sequence(hook, context);
    const PrimedC c(keys, tt_params_default(static_cast<tt_scheme>(kind), vocab), context);
    tt_hook* chook = c.hook();
    SeqState* rows[] = {&seq};
    tt_seq* crows[] = {c.seq()};

    if (step.contains("biased_bits")) {
      const auto expected = step["biased_bits"].get<std::vector<uint32_t>>();
      std::vector<float> a = logits, b = logits;
      REQUIRE(hook.bias(rows, LogitsView{a.data(), 1, vocab, vocab}));
      REQUIRE(tt_hook_bias(chook, crows, tt_logits_view{b.data(), 1, vocab, vocab}, 0) == TT_OK);
      for (uint32_t i = 0; i < vocab; ++i) {
        uint32_t ba, bb;
        std::memcpy(&ba, &a[i], 4);
        std::memcpy(&bb, &b[i], 4);
        INFO(step["scheme"].get<std::string>() << " id " << i);
        CHECK(ba == expected[i]);
        CHECK(bb == expected[i]);
      }
    } else {
      std::vector<float> a = logits;
      CHECK(hook.bias(rows, LogitsView{a.data(), 1, vocab, vocab}).code() == StatusCode::kUnsupported);
      CHECK(tt_hook_bias(chook, crows, tt_logits_view{a.data(), 1, vocab, vocab}, 0) == TT_ERR_UNSUPPORTED);
      CHECK(std::string(tt_last_error()).find("choose") != std::string::npos);
    }
    std::vector<float> a = logits, b = logits;
    int32_t ta = -2, tb = -2;
    REQUIRE(hook.choose(rows, LogitsView{a.data(), 1, vocab, vocab}, &u, &ta));
    REQUIRE(tt_hook_choose(chook, crows, tt_logits_view{b.data(), 1, vocab, vocab}, &u, &tb, 0) == TT_OK);
    CHECK(ta == step["chosen"].get<int32_t>());
    CHECK(tb == step["chosen"].get<int32_t>());
  }
}

TEST_CASE("the partial-file vector reads, carries the SHA-256 of its bytes and writes back bit for bit",
          "[vectors][partial]") {
  const json v = load_vectors()["partial_file"];
  const std::string bytes = test::vector_file_bytes("partial_file");
  REQUIRE(bytes.size() > 32);
  CHECK(input::sha256_hex(bytes.substr(0, bytes.size() - 32)) == v["sha256"].get<std::string>());
  CHECK(hex(reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size() - 32, 32) == v["sha256"].get<std::string>());
  std::istringstream in(bytes);
  auto read = score::read_partial_stream(in, "vector.part");
  REQUIRE(read.is_ok());
  REQUIRE(read->size() == 1);
  auto ring = KeyRing::from_secret(test_secret());
  REQUIRE(ring);
  CHECK((*read)[0].info().key_id == ring->key_id_hex());
  CHECK((*read)[0].state().documents == 2);
  CHECK((*read)[0].state().entries.size() == 3);
  std::ostringstream out;
  REQUIRE(score::write_partial_stream(out, *read).is_ok());
  CHECK(out.str() == bytes);
}

TEST_CASE("the context-filter vector reads, carries the SHA-256 of its bytes and holds its windows",
          "[vectors][radio]") {
  const json v = load_vectors()["context_filter"];
  const std::string bytes = test::vector_file_bytes("context_filter");
  REQUIRE(bytes.size() == 80);
  CHECK(input::sha256_hex(bytes.substr(0, bytes.size() - 32)) == v["sha256"].get<std::string>());
  std::istringstream in(bytes);
  auto filter = radio::ContextFilter::read(in, "vector.ttcf");
  REQUIRE(filter.is_ok());
  CHECK(filter->window_size() == 2);
  CHECK(filter->bits() == 64);
  for (const json& w : v["inserted"]) CHECK(filter->contains(w.get<std::vector<int32_t>>()));
  const std::string path =
      (std::filesystem::temp_directory_path() / ("telltale-vector-test-" + std::to_string(::getpid()) + ".ttcf"))
          .string();
  REQUIRE(filter->write(path).is_ok());
  std::ifstream again(path, std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  CHECK(written == bytes);
}
