// spec/test-vectors.json, the sections beyond the PRF basics: every subkey, describe() and validate(), context
// fingerprints, scores at the edges, hook steps at the edges, the tournament's binary64 probabilities, the fallback
// generator, the repeated-context FIFO and the fingerprint scheme. C++ API and, where it has the call, the C ABI.
#include <cmath>

#include "hook/step.hpp"
#include "schemes/tournament.hpp"
#include "telltale/fingerprint.hpp"
#include "vectors_test_support.hpp"

using nlohmann::json;
using namespace telltale;
using namespace telltale::test;

TEST_CASE("every scheme's three subkeys match the account_subkeys vectors", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  REQUIRE(v["account_subkeys"].size() == 4);
  for (const auto& e : v["account_subkeys"]) {
    const SchemeKind kind = scheme_of(e["scheme"]);
    const char* fields[] = {"seeder", "keystream", "account"};
    for (int purpose = 1; purpose <= 3; ++purpose) {
      uint8_t k[16];
      REQUIRE(keys.ring().derive(kind, static_cast<KeyPurpose>(purpose), 0, k));
      CHECK(hex(k, 16) == e[fields[purpose - 1]].get<std::string>());
    }
  }
}

TEST_CASE("describe() and validate() give the vectors' strings and messages", "[vectors]") {
  const json v = load_vectors();
  for (const auto& e : v["describe"]) {
    const SchemeParams p = params_from_json(e["params"]);
    CHECK(validate(p));
    CHECK(describe(p) == e["string"].get<std::string>());
  }
  CHECK(v["params_refused"].size() == 9);
  for (const auto& e : v["params_refused"]) {
    const Status s = validate(params_from_json(e["params"]));
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message() == e["message"].get<std::string>());
  }
}

TEST_CASE("context fingerprints are le64 of the left-hash SipHash output, as the vectors give", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  uint8_t key[16];
  REQUIRE(keys.ring().derive(SchemeKind::kKgw, KeyPurpose::kSeeder, 0, key));
  const Seeder seeder(std::span<const uint8_t, 16>(key, 16));
  for (const auto& e : v["context_fingerprints"]) {
    const auto w = e["window"].get<std::vector<int32_t>>();
    CHECK(seeder.left_hash(w).fingerprint() == from_hex64(e["fingerprint"]));
  }
}

TEST_CASE("scores at other widths and depths, and of ids outside the vocabulary, match the vectors", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  const tt_keyring* ckeys = keys.c();
  size_t zero_outside = 0;
  for (const auto& entry : v["scores_edge_cases"]) {
    const SchemeParams p = params_from_json(entry["params"]);
    auto det = Detector::create(keys.ring(), p);
    REQUIRE(det);
    const tt_params cp = c_params(p);
    tt_detector* cdet = nullptr;
    REQUIRE(tt_detector_create_scored(ckeys, &cp, static_cast<int32_t>(p.tournament.score), &cdet) == TT_OK);
    for (const auto& s : entry["scores"]) {
      const auto w = s["window"].get<std::vector<int32_t>>();
      const int32_t token = s["token"];
      INFO(entry["name"].get<std::string>() << " token " << token);
      CHECK(det->score(w, token) == s["score"].get<double>());
      double c_score = -1;
      REQUIRE(tt_detector_score(cdet, w.data(), w.size(), token, &c_score) == TT_OK);
      CHECK(c_score == s["score"].get<double>());
      if (s.contains("g_values")) CHECK(det->g_values(w, token) == s["g_values"].get<uint32_t>());
      if (token < 0 || static_cast<uint32_t>(token) >= p.vocab_size) {
        CHECK(s["score"].get<double>() == 0.0);
        ++zero_outside;
      }
    }
    tt_detector_free(cdet);
  }
  CHECK(zero_outside == 4 * v["scores_edge_cases"].size());
}

TEST_CASE("hook steps on padded rows, with mask_others, top-k and no finite logit match the vectors", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  for (const auto& step : v["hook_cases"]) {
    INFO(step["name"].get<std::string>());
    const SchemeParams p = params_from_json(step["params"]);
    const std::vector<float> logits = floats_from_bits(step["logits_bits"]);
    const int64_t n = step["n_vocab"];
    REQUIRE(logits.size() == static_cast<size_t>(n));
    const float u = step["uniform"].get<float>();
    const bool mask = step["mask_others"];
    const Hook hook = vectors_hook(keys, p);
    const auto context = step["context"].get<std::vector<int32_t>>();
    SeqState seq = primed_sequence(hook, context);
    const PrimedC c(keys, c_params(p), context);
    tt_hook* chook = c.hook();
    SeqState* rows[] = {&seq};
    tt_seq* crows[] = {c.seq()};
    if (step.contains("biased_bits")) {
      std::vector<float> a = logits;
      BiasOptions options;
      options.top_k = step["top_k"];
      REQUIRE(hook.bias(rows, LogitsView{a.data(), 1, n, n}, options));
      const auto want = step["biased_bits"].get<std::vector<uint32_t>>();
      for (int64_t i = 0; i < n; ++i) CHECK(bits_of(a[i]) == want[i]);
      if (options.top_k == 0) {
        std::vector<float> b = logits;
        REQUIRE(tt_hook_bias(chook, crows, tt_logits_view{b.data(), 1, n, n}, 0) == TT_OK);
        for (int64_t i = 0; i < n; ++i) CHECK(bits_of(b[i]) == want[i]);
      }
    }
    std::vector<float> a = logits, b = logits;
    int32_t ta = -2, tb = -2;
    REQUIRE(hook.choose(rows, LogitsView{a.data(), 1, n, n}, &u, &ta, mask));
    REQUIRE(tt_hook_choose(chook, crows, tt_logits_view{b.data(), 1, n, n}, &u, &tb, mask ? 1 : 0) == TT_OK);
    CHECK(ta == step["chosen"].get<int32_t>());
    CHECK(tb == step["chosen"].get<int32_t>());
    const auto after = step["row_after_choose_bits"].get<std::vector<uint32_t>>();
    for (int64_t i = 0; i < n; ++i) {
      CHECK(bits_of(a[i]) == after[i]);
      CHECK(bits_of(b[i]) == after[i]);
    }
    if (step["chosen"].get<int32_t>() >= 0) CHECK(step["chosen"].get<uint32_t>() < p.vocab_size);
  }
}

TEST_CASE("the tournament's binary64 probabilities match the vectors on the row that separates the groupings",
          "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  const json& e = v["hook_tournament_probabilities"];
  const SchemeParams p = params_from_json(e["params"]);
  std::vector<float> logits = floats_from_bits(e["logits_bits"]);
  const auto n = static_cast<uint32_t>(logits.size());
  const auto context = e["context"].get<std::vector<int32_t>>();
  auto det = Detector::create(keys.ring(), p);
  REQUIRE(det);
  tournament::Buffers buf;
  buf.reserve(n);
  double max_logit = -INFINITY;
  for (uint32_t i = 0; i < n; ++i) {
    buf.index[i] = i;
    buf.values[i] = det->g_values(context, static_cast<int32_t>(i));
    max_logit = std::fmax(max_logit, static_cast<double>(logits[i]));
  }
  tournament::reweight(buf, n, detail::DenseList{logits.data(), n}, max_logit, p.tournament.layers);
  const auto want = e["probabilities_bits"].get<std::vector<std::string>>();
  REQUIRE(want.size() == n);
  for (uint32_t i = 0; i < n; ++i) CHECK(std::bit_cast<uint64_t>(buf.probs[i]) == from_hex64(want[i]));
  // The hook's biased row is (float) ln of exactly these probabilities.
  const Hook hook = vectors_hook(keys, p);
  SeqState seq = primed_sequence(hook, context);
  SeqState* rows[] = {&seq};
  REQUIRE(hook.bias(rows, LogitsView{logits.data(), 1, n, n}));
  for (uint32_t i = 0; i < n; ++i) {
    const double q = std::bit_cast<double>(from_hex64(want[i]));
    CHECK(bits_of(logits[i]) == bits_of(q > 0 ? static_cast<float>(std::log(q)) : -INFINITY));
  }
}

TEST_CASE("the fallback generator's draws match the vectors and the splitmix64 formula", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  const Hook hook = vectors_hook(keys, default_params(SchemeKind::kKgw, 64));
  REQUIRE(v["fallback_draws"].size() == 12);
  for (const auto& e : v["fallback_draws"]) {
    auto seq = hook.new_sequence(0, from_hex64(e["rng_seed"]));
    REQUIRE(seq);
    const uint32_t accepted = e["accepted"];
    for (uint32_t i = 0; i < accepted; ++i) seq->accept(static_cast<int32_t>(i + 1));
    std::vector<float> row(64, 0.0f);
    SeqState* rows[] = {&seq.value()};
    int32_t token = -2;
    REQUIRE(hook.choose(rows, LogitsView{row.data(), 1, 64, 64}, nullptr, &token));
    CHECK(token == e["chosen"].get<int32_t>());
    // 64 equal logits: plain sampling picks floor(64 u) for the vector's u.
    CHECK(token == static_cast<int32_t>(std::floor(64.0 * from_bits(e["u_bits"]))));
  }
}

TEST_CASE("the repeated-context FIFO watermarks and skips the steps the vectors list", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  const json& e = v["repeated_contexts"];
  const SchemeParams p = params_from_json(e["params"]);
  const Hook hook = vectors_hook(keys, p);
  SeqState seq = primed_sequence(hook, e["prompt"].get<std::vector<int32_t>>());
  const float u = e["uniform"].get<float>();
  size_t skipped = 0;
  for (const auto& step : e["steps"]) {
    std::vector<float> row(64);
    for (uint32_t i = 0; i < 64; ++i) row[i] = static_cast<float>(i % 7) * 0.5f - 1.0f;
    SeqState* rows[] = {&seq};
    int32_t token = -2;
    REQUIRE(hook.choose(rows, LogitsView{row.data(), 1, 64, 64}, &u, &token));
    CHECK(token == step["chosen"].get<int32_t>());
    const uint64_t before = seq.watermarked_steps();
    seq.accept(step["accepted_next"].get<int32_t>());
    CHECK((seq.watermarked_steps() > before) == step["watermarked"].get<bool>());
    skipped += !step["watermarked"].get<bool>();
  }
  CHECK(seq.watermarked_steps() == e["watermarked_steps"].get<uint64_t>());
  CHECK(seq.skipped_repeated() == e["skipped_repeated"].get<uint64_t>());
  CHECK(skipped == e["skipped_repeated"].get<uint64_t>());
  CHECK(skipped > 0);
}

TEST_CASE("the fingerprint scheme's biased row, account marks and codeword bits match the vectors", "[vectors]") {
  const json v = load_vectors();
  const TestKeys keys;
  const json& e = v["fingerprint_steps"];
  const SchemeParams p = params_from_json(e["params"]);
  const Hook hook = vectors_hook(keys, p);
  SeqState seq = primed_sequence(hook, e["context"].get<std::vector<int32_t>>(), e["account"].get<uint64_t>());
  std::vector<float> row = floats_from_bits(e["logits_bits"]);
  const auto n = static_cast<int64_t>(row.size());
  SeqState* rows[] = {&seq};
  REQUIRE(hook.bias(rows, LogitsView{row.data(), 1, n, n}));
  const auto want = e["biased_bits"].get<std::vector<uint32_t>>();
  for (int64_t i = 0; i < n; ++i) CHECK(bits_of(row[i]) == want[i]);
  auto det = Detector::create(keys.ring(), p);
  REQUIRE(det);
  const auto doc = e["document"].get<std::vector<int32_t>>();
  const size_t first = e["first"];
  std::vector<uint32_t> marks(doc.size() - first);
  REQUIRE(det->account_marks(doc, first, marks));
  CHECK(marks == e["account_marks"].get<std::vector<uint32_t>>());
  for (const auto& c : v["fingerprint_code"]) {
    const uint32_t account = c["account"];
    const auto at = c["symbols_at"].get<std::vector<uint32_t>>();
    for (size_t i = 0; i < at.size(); ++i) CHECK(fingerprint_symbol(account, at[i]) == c["symbols"][i].get<uint32_t>());
    const auto bits_at = c["bits_at"].get<std::vector<uint32_t>>();
    for (size_t i = 0; i < bits_at.size(); ++i) {
      CHECK(fingerprint_codeword_bit(account, bits_at[i]) == c["bits"][i].get<unsigned>());
    }
  }
}

TEST_CASE("a Gumbel tie goes to the lower id whatever the candidate order, as the vectors say", "[vectors]") {
  const json e = load_vectors()["gumbel_tie"];
  const TestKeys keys;
  const SchemeParams p = params_from_json(e["params"]);
  const Hook hook = vectors_hook(keys, p);
  auto det = Detector::create(keys.ring(), p);
  REQUIRE(det);
  const auto context = e["context"].get<std::vector<int32_t>>();
  REQUIRE(e["candidates"].size() == 2);
  for (const auto& c : e["candidates"]) {
    auto ids = c["ids"].get<std::vector<int32_t>>();
    std::vector<float> logits;
    for (double l : c["logits"].get<std::vector<double>>()) logits.push_back(static_cast<float>(l));
    CHECK(det->score(context, ids[0]) == e["score"].get<double>());
    CHECK(det->score(context, ids[1]) == e["score"].get<double>());
    SeqState seq = primed_sequence(hook, context);
    size_t index = 99;
    REQUIRE(hook.choose_candidates(seq, CandidatesView{ids.data(), logits.data(), ids.size()}, 0.375f, &index));
    CHECK(index == c["chosen_index"].get<size_t>());
    CHECK(ids[index] == c["chosen_id"].get<int32_t>());
    CHECK(ids[index] == std::min(ids[0], ids[1]));
  }
}
