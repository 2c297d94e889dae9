// Attribution: the registry parser's refusals, the decoder against a direct count, the null bound theta against the
// worst-case innocent account, the family-wise error on human text with 25,000 accounts, and end-to-end power on
// the reference model with the zero-bit layer still found by the plain KGW detector.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "attrib/account_evidence.hpp"
#include "attrib/account_registry.hpp"
#include "attrib/attribution.hpp"
#include "attrib/attribution_scan.hpp"
#include "generator.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "reference_model.hpp"
#include "score/document_scorer.hpp"
#include "score/verdict.hpp"
#include "stats/multiple_testing.hpp"
#include "stats/tails.hpp"
#include "telltale/fingerprint.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::attrib;

namespace {

// The largest count c with P(Binomial(n, p) >= c) > 1e-6: a count above it is a failure at that level.
uint64_t binomial_upper_bound(uint64_t n, double p) {
  uint64_t c = 0;
  while (c < n && stats::log_binomial_sf(c + 1, n, p) > std::log(1e-6)) ++c;
  return c;
}

std::vector<uint32_t> random_ids(size_t n, uint64_t seed, std::vector<uint32_t> include = {}) {
  std::mt19937_64 rng(seed);
  std::set<uint32_t> seen(include.begin(), include.end());
  std::vector<uint32_t> ids = include;
  while (ids.size() < n) {
    const auto id = static_cast<uint32_t>(rng());
    if (seen.insert(id).second) ids.push_back(id);
  }
  return ids;
}

}  // namespace

TEST_CASE("the registry reads ids, comments, blank lines and CRLF", "[attribution]") {
  auto r = AccountRegistry::parse("# issued 2026-12-01\n17\r\n\n  4294967295  \n0\n# end", "reg.txt");
  REQUIRE(r.is_ok());
  CHECK(r->ids() == std::vector<uint32_t>{17, 4294967295u, 0});
  CHECK(r->symbols(0)[0] == fingerprint_symbol(17, 0));
  CHECK(r->symbols(200)[1] == fingerprint_symbol(4294967295u, 200));
}

TEST_CASE("malformed registries are refused with one line naming the file and line", "[attribution]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1\n2\n4294967296\n", "reg.txt:3: account id '4294967296' is out of range"},
      {"1\n99999999999999999999\n", "reg.txt:2: account id"},
      {"5\n6\n5\n", "reg.txt:3: duplicate account id 5 (first on line 1)"},
      {"12a\n", "reg.txt:1: '12a' is not an account id"},
      {"-3\n", "reg.txt:1: '-3' is not an account id"},
      {"1 2\n", "reg.txt:1: '1 2' is not an account id"},
      {"007\n", "reg.txt:1: '007' has a leading zero"},
      {"# nothing\n\n", "reg.txt: the registry holds no account id"},
      {"", "reg.txt: the registry holds no account id"},
      {std::string("1\n2\0\n", 5), "reg.txt:2: NUL byte"},
      {"1\n" + std::string(300, '1') + "\n", "reg.txt:2: line longer than 256 bytes"},
  };
  for (const auto& [text, expected] : cases) {
    auto r = AccountRegistry::parse(text, "reg.txt");
    REQUIRE_FALSE(r.is_ok());
    const std::string& m = r.status().message();
    INFO(m);
    CHECK(m.rfind(expected, 0) == 0);
    CHECK(m.find('\n') == std::string::npos);
  }
  auto missing = AccountRegistry::read_file("/nonexistent/registry.txt");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == StatusCode::kIo);
}

TEST_CASE("the Walsh-Hadamard decode equals a direct count of agreeing bits for every account", "[attribution]") {
  std::mt19937_64 rng(11);
  const auto ids = random_ids(60, 3, {0, 1, 4294967295u});
  auto registry = AccountRegistry::from_ids(ids);
  REQUIRE(registry.is_ok());
  AccountEvidence evidence;
  std::vector<uint32_t> marks;
  for (int i = 0; i < 700; ++i) {
    // Clustered positions, so that several land on the same symbol and the same bit.
    const uint32_t position = static_cast<uint32_t>(rng() % 2048) * 32;
    marks.push_back(position << 1 | static_cast<uint32_t>(rng() & 1));
  }
  for (uint32_t m : marks) evidence.add(m);
  std::vector<uint64_t> matches;
  evidence.matches(*registry, matches);
  for (size_t a = 0; a < ids.size(); ++a) {
    uint64_t direct = 0;
    for (uint32_t m : marks) direct += (m & 1u) == fingerprint_codeword_bit(ids[a], m >> 1);
    CHECK(matches[a] == direct);
  }
  // Adding evidence and clearing it.
  AccountEvidence twice;
  twice.add(evidence);
  twice.add(evidence);
  std::vector<uint64_t> doubled;
  twice.matches(*registry, doubled);
  for (size_t a = 0; a < ids.size(); ++a) CHECK(doubled[a] == 2 * matches[a]);
  twice.clear();
  twice.matches(*registry, doubled);
  CHECK(twice.scored() == 0);
  CHECK(std::all_of(doubled.begin(), doubled.end(), [](uint64_t x) { return x == 0; }));
}

TEST_CASE("Holm over a partial list agrees with Holm over the whole family when nothing is left out", "[attribution]") {
  const std::vector<double> p = {std::log(1e-9), std::log(0.2), std::log(1e-4), std::log(0.01), std::log(1e-4)};
  const auto partial = holm_partial_log(p, p.size());
  const auto full = stats::holm_adjust_log(p);
  for (size_t i = 0; i < p.size(); ++i) CHECK(partial[i] == Approx(full[i]).margin(1e-12));
  // A larger family only makes the adjusted values larger.
  const auto larger = holm_partial_log(p, 1000);
  for (size_t i = 0; i < p.size(); ++i) CHECK(larger[i] >= partial[i]);
  CHECK(null_match_bound(0.0) == 0.5);
  CHECK(null_match_bound(2.0) == Approx(0.5 + (1.0 / (1.0 + std::exp(-2.0)) - 0.5) * 3.0 / 256.0));
}

TEST_CASE("theta bounds the worst innocent account: one sharing 3 symbols with the true account, at full strength",
          "[attribution]") {
  // Text of account b whose every step lands in b's favoured half with probability sigmoid(delta), the most the
  // account layer can achieve (spec/fingerprint.md 5.2). Account a shares 3 of b's 256 symbols, the most two ids
  // can: its per-context match probability is exactly theta. Its p-values must be valid (super-uniform).
  const double delta = 2.0;
  const double strength = 1.0 / (1.0 + std::exp(-delta));
  const double theta = null_match_bound(delta);
  const uint32_t b = 987654321u;
  const uint8_t c2 = 5 ^ 9 ^ 200;
  const uint8_t c1 = gf256_mul(5, 9) ^ gf256_mul(5, 200) ^ gf256_mul(9, 200);
  const uint8_t c0 = gf256_mul(gf256_mul(5, 9), 200);
  const uint32_t a =
      b ^ (uint32_t{7} << 24 | uint32_t{gf256_mul(7, c2)} << 16 | uint32_t{gf256_mul(7, c1)} << 8 | gf256_mul(7, c0));
  auto registry = AccountRegistry::from_ids(std::vector<uint32_t>{a, b});
  REQUIRE(registry.is_ok());
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  const int docs = 1000;
  const int contexts = 4000;
  int rejected_theta = 0, rejected_half = 0, true_found = 0;
  AccountEvidence evidence;
  std::vector<uint64_t> matches;
  std::vector<uint8_t> b_symbols(256);
  for (uint32_t i = 0; i < 256; ++i) b_symbols[i] = fingerprint_symbol(b, i);
  for (int d = 0; d < docs; ++d) {
    evidence.clear();
    for (int i = 0; i < contexts; ++i) {
      const auto position = static_cast<uint32_t>(rng() & 0xffff);
      const unsigned favoured = fingerprint_inner_bit(b_symbols[position >> 8], position & 0xff);
      const unsigned bit = unif(rng) < strength ? favoured : 1u - favoured;
      evidence.add(position << 1 | bit);
    }
    evidence.matches(*registry, matches);
    rejected_theta += stats::log_binomial_sf(matches[0], contexts, theta) <= std::log(0.05);
    rejected_half += stats::log_binomial_sf(matches[0], contexts, 0.5) <= std::log(0.05);
    true_found += stats::log_binomial_sf(matches[1], contexts, theta) <= std::log(1e-6);
  }
  const uint64_t bound = binomial_upper_bound(docs, 0.05);
  INFO("innocent account rejected at 0.05: " << rejected_theta << " / " << docs << " with theta, " << rejected_half
                                             << " with 1/2; bound " << bound);
  CHECK(static_cast<uint64_t>(rejected_theta) <= bound);
  // Without the bound (a naive Binomial(n, 1/2) null) the same innocent account is accused far too often.
  CHECK(static_cast<uint64_t>(rejected_half) > bound);
  CHECK(true_found == docs);
}

TEST_CASE("FWER on human text: 25000 registered accounts and no document accuses anyone beyond alpha",
          "[attribution][calib]") {
  auto tokenizer = test::reference_tokenizer();
  const KeyRing keys = test::fixed_key(90);
  auto det = Detector::create(keys, default_params(SchemeKind::kFingerprint, 512));
  REQUIRE(det.is_ok());
  auto registry = AccountRegistry::from_ids(random_ids(25000, 9));
  REQUIRE(registry.is_ok());
  AttributionOptions options;
  options.alpha = 0.05;  // per document (Holm over 25,000 accounts): large, so that the check can fail
  auto scan = AttributionScan::create(*det, *registry, options);
  REQUIRE(scan.is_ok());
  input::InputOptions in;
  in.split = input::TextSplit::kParagraph;
  auto source = input::DocumentSource::open({std::string(test::kSharedDir) + "/corpora/austen_6novels.txt",
                                             std::string(test::kSharedDir) + "/corpora/tinyshakespeare.txt"},
                                            in);
  REQUIRE(source.is_ok());
  // Documents of 200 tokens, cut from consecutive paragraphs.
  const size_t docs_wanted = 400;
  std::vector<int32_t> buffer, ids;
  size_t docs = 0, accusing = 0;
  input::Document doc;
  while (docs < docs_wanted) {
    auto got = source->next(doc);
    REQUIRE(got.is_ok());
    if (!*got) break;
    REQUIRE(tokenizer->encode(doc.text, ids).is_ok());
    buffer.insert(buffer.end(), ids.begin(), ids.end());
    while (buffer.size() >= 200 && docs < docs_wanted) {
      const auto& r = scan->add_document({buffer.data(), 200}, 0, "human");
      accusing += r.result.attributed > 0;
      buffer.erase(buffer.begin(), buffer.begin() + 200);
      ++docs;
    }
  }
  REQUIRE(docs == docs_wanted);
  const CorpusAttribution corpus = scan->finish();
  const uint64_t bound = binomial_upper_bound(docs, options.alpha);
  INFO("documents accusing an account at 0.05: " << accusing << " / " << docs << "; bound " << bound
                                                 << "; corpus-level accusations " << corpus.accusations.size());
  CHECK(accusing <= bound);
  CHECK(corpus.accusations.empty());  // Holm over every (document, account) pair at 0.05
  CHECK(corpus.pooled.attributed == 0);
}

TEST_CASE("reference-model texts from 8 accounts among 1000 are attributed to them and to no one else",
          "[attribution][power]") {
  auto tokenizer = test::reference_tokenizer();
  auto model = test::reference_model();
  const KeyRing keys = test::fixed_key(91);
  const SchemeParams params = default_params(SchemeKind::kFingerprint, 512);
  auto hook = Hook::create(keys, params);
  REQUIRE(hook.is_ok());
  auto det = Detector::create(keys, params);
  REQUIRE(det.is_ok());
  const std::vector<uint32_t> active = {5, 77, 1234567, 4000000000u, 31337, 8, 2026, 99999};
  auto registry = AccountRegistry::from_ids(random_ids(1000, 4, active));
  REQUIRE(registry.is_ok());
  auto scan = AttributionScan::create(*det, *registry, {1e-3, 3});
  REQUIRE(scan.is_ok());
  // The plain KGW detector, unchanged, on the same texts: the shared layer.
  SchemeParams kgw_params = params;
  kgw_params.scheme = SchemeKind::kKgw;
  auto kgw = Detector::create(keys, kgw_params);
  REQUIRE(kgw.is_ok());
  auto scorer = score::DocumentScorer::create(*kgw, {}).value();
  score::Tally pooled;

  refmodel::Generator generator(*model);
  std::vector<int32_t> prompt;
  REQUIRE(tokenizer->encode("Once upon a time", prompt).is_ok());
  int correct = 0, wrong = 0;
  std::string log;
  for (size_t i = 0; i < active.size(); ++i) {
    refmodel::GenerationOptions gen;
    gen.max_new_tokens = 400;
    gen.stop_at_end = false;
    gen.top_p = 1.0f;
    gen.seed = 500 + i;
    auto seq = hook->new_sequence(active[i], gen.seed);
    REQUIRE(seq.is_ok());
    auto out = generator.run(prompt, &*hook, &*seq, gen);
    REQUIRE(out.is_ok());
    auto text = tokenizer->decode(out->tokens);
    REQUIRE(text.is_ok());
    std::vector<int32_t> ids;
    REQUIRE(tokenizer->encode(*text, ids).is_ok());
    const auto& r = scan->add_document(ids, 0, "doc" + std::to_string(i));
    for (size_t k = 0; k < r.result.attributed; ++k) {
      (r.result.ranked[k].account == active[i] ? correct : wrong) += 1;
    }
    log += std::to_string(r.result.ranked[0].account == active[i]) + ":" +
           std::to_string(r.result.ranked[0].log_p_adjusted / std::log(10.0)).substr(0, 6) + " ";
    score::DocumentScore s;
    scorer.score(ids, 0, s);
    for (const auto& e : s.entries) pooled.add(e.score);
  }
  const CorpusAttribution corpus = scan->finish();
  const double kgw_log_p = score::evaluate(pooled, kgw->null_model()).log_p;
  INFO("per document (top is right : log10 Holm p): " << log << "; correct " << correct << ", wrong " << wrong
                                                      << "; corpus accusations " << corpus.accusations.size()
                                                      << "; KGW detector log10 p " << kgw_log_p / std::log(10.0));
  CHECK(wrong == 0);
  CHECK(correct >= 6);  // observed: see the INFO line; 400 tokens of this tiny model carry little entropy
  for (const Accusation& a : corpus.accusations) {
    CHECK(std::find(active.begin(), active.end(), a.account) != active.end());
  }
  CHECK(kgw_log_p < std::log(1e-30));
}
