// The test-only "parity" scheme (parity.hpp), added as docs/adding-a-scheme.md says: its file pair, one line in the
// scheme table and a SchemeKind enumerator. Through nothing but those, every boundary of the core knows it: its name,
// checks and description, its null law and words, the hook's dense, candidate and draw paths, and the detector.
#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "test_scheme/parity.hpp"

namespace telltale {
namespace {

constexpr uint32_t kVocab = 1000;
constexpr double kAlpha = 1e-9;

KeyRing test_key() {
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(7 * i + 1);
  auto keys = KeyRing::from_secret(secret);
  REQUIRE(keys.is_ok());
  return std::move(keys).value();
}

SchemeParams parity_params() { return default_params(SchemeKind::kTestParity, kVocab); }

// The hook and the detector of the test key under the parity scheme.
struct ParitySide {
  KeyRing keys = test_key();
  Hook hook = std::move(Hook::create(keys, parity_params())).value();
  Detector detector = std::move(Detector::create(keys, parity_params())).value();
};

std::vector<float> random_row(std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(kVocab);
  for (float& x : row) x = normal(rng);
  return row;
}

// Keyed bits of 1 among `tokens` past the window, as the detector scores them.
std::pair<uint64_t, uint64_t> ones_and_scored(Detector& detector, const std::vector<int32_t>& tokens) {
  const size_t first = detector.window_size();
  std::vector<double> scores(tokens.size() - first);
  REQUIRE(detector.score_sequence(tokens, first, scores).is_ok());
  uint64_t ones = 0;
  for (double s : scores) {
    REQUIRE((s == 0.0 || s == 1.0));
    ones += s == 1.0;
  }
  return {ones, scores.size()};
}

// The largest count a Binomial(n, 1/2) exceeds with probability at most kAlpha.
double null_quantile(uint64_t n) {
  return boost::math::quantile(boost::math::complement(boost::math::binomial(static_cast<double>(n), 0.5), kAlpha));
}

}  // namespace

TEST_CASE("parity scheme: the table gives its name, checks, description and report words") {
  REQUIRE(parse_scheme("parity") == SchemeKind::kTestParity);
  CHECK(std::string(scheme_name(SchemeKind::kTestParity)) == "parity");
  CHECK(std::string(scheme_name_list()).find("parity") != std::string::npos);
  const SchemeParams p = parity_params();
  CHECK(validate(p).is_ok());
  CHECK(describe(p).rfind("scheme=parity h=4 seeding=left-hash vocab=1000", 0) == 0);
  const NullModel null = null_model(p);
  CHECK(null.kind == NullKind::kBernoulli);
  CHECK(null.p == 0.5);
  CHECK(null_mean(null) == 0.5);
  CHECK(std::string(score_column(p)) == "bit 1");
  CHECK(std::string(method_text(p)).find("keyed bit") != std::string::npos);
  // The tournament's score field does not apply: the table says so, and validate() refuses it.
  SchemeParams weighted = p;
  weighted.tournament.score = TournamentScore::kWeightedMean;
  CHECK_FALSE(validate(weighted).is_ok());
}

TEST_CASE("parity scheme: the dense bias adds delta exactly where the detector scores 1") {
  ParitySide side;
  Hook& hook = side.hook;
  Detector& detector = side.detector;
  auto seq = hook.new_sequence();
  REQUIRE(seq.is_ok());
  const std::vector<int32_t> window = {11, 22, 33, 44};
  for (int32_t t : window) seq.value().accept(t);

  std::mt19937_64 rng(20261206);
  const std::vector<float> before = random_row(rng);
  std::vector<float> row = before;
  SeqState* rows[] = {&seq.value()};
  REQUIRE(hook.bias(rows, LogitsView{row.data(), 1, kVocab, kVocab}).is_ok());
  uint32_t ones = 0;
  for (uint32_t v = 0; v < kVocab; ++v) {
    const double s = detector.score(window, static_cast<int32_t>(v));
    ones += s == 1.0;
    CHECK(row[v] == (s == 1.0 ? before[v] + parity::kDelta : before[v]));
  }
  // About half the ids carry a 1: within the exact two-sided binomial bounds at kAlpha.
  const boost::math::binomial null(kVocab, 0.5);
  CHECK(ones >= boost::math::quantile(null, kAlpha / 2));
  CHECK(ones <= boost::math::quantile(boost::math::complement(null, kAlpha / 2)));

  // The candidate path gives the same row.
  auto seq2 = hook.new_sequence();
  REQUIRE(seq2.is_ok());
  for (int32_t t : window) seq2.value().accept(t);
  std::vector<int32_t> ids(kVocab);
  for (uint32_t v = 0; v < kVocab; ++v) ids[v] = static_cast<int32_t>(v);
  std::vector<float> cand_logits = before;
  CandidatesView cand{ids.data(), cand_logits.data(), kVocab};
  REQUIRE(hook.bias_candidates(seq2.value(), cand).is_ok());
  CHECK(cand_logits == row);
}

TEST_CASE("parity scheme: text drawn through the hook is detected, text drawn without it is not") {
  ParitySide side;
  Hook& hook = side.hook;
  Detector& detector = side.detector;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);

  auto seq = hook.new_sequence();
  REQUIRE(seq.is_ok());
  std::vector<int32_t> marked = {1, 2, 3, 4};
  std::vector<int32_t> plain = marked;
  for (int32_t t : marked) seq.value().accept(t);
  for (int step = 0; step < 400; ++step) {
    std::vector<float> row = random_row(rng);
    const float u = std::min(uniform(rng), 0.99999994f);
    int32_t token = -1;
    SeqState* rows[] = {&seq.value()};
    REQUIRE(hook.choose(rows, LogitsView{row.data(), 1, kVocab, kVocab}, &u, &token).is_ok());
    REQUIRE(token >= 0);
    seq.value().accept(token);
    marked.push_back(token);
    // The same kind of row, drawn by softmax without the key.
    std::vector<float> other = random_row(rng);
    std::vector<double> weights(other.size());
    for (size_t v = 0; v < other.size(); ++v) weights[v] = std::exp(static_cast<double>(other[v]));
    std::discrete_distribution<int32_t> softmax(weights.begin(), weights.end());
    plain.push_back(softmax(rng));
  }
  const auto [marked_ones, marked_n] = ones_and_scored(detector, marked);
  const auto [plain_ones, plain_n] = ones_and_scored(detector, plain);
  CHECK(static_cast<double>(marked_ones) > null_quantile(marked_n));
  CHECK(static_cast<double>(plain_ones) <= null_quantile(plain_n));
}

}  // namespace telltale
