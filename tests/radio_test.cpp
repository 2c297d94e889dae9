// Radioactivity: the predictions file reader, the teacher-context filter, the suspect scorer's rules, and the
// distillation simulator at CI scale (controls uniform, a 5% student detected).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "distillation.hpp"
#include "next_token_predictor.hpp"
#include "radio/context_filter.hpp"
#include "radio/predictions.hpp"
#include "radio/suspect_scorer.hpp"
#include "stats/tails.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::radio;

namespace {

const char* kHeader = R"({"telltale":"predictions","version":1,"vocab_size":512})";

}  // namespace

TEST_CASE("a predictions file round-trips through its writer and reader", "[radio][predictions]") {
  test::ScratchDir dir("radio-rt");
  PredictionRecord r;
  r.doc = "story 1";
  r.ids = {5, 6, 7, 8, 9};
  r.positions = {1, 4, 5};
  r.predicted = {{10}, {11, 12}, {13}};
  r.logprobs = {{-0.5f}, {-1.0f, -2.0f}, {0.0f}};
  PredictionsHeader h;
  h.vocab_size = 512;
  h.suspect = "test";
  const std::string path = dir.file("p.jsonl", predictions_header_line(h) + "\n" + prediction_record_line(r) + "\n\n" +
                                                   prediction_record_line(r) + "\n");
  auto reader = PredictionReader::open(path);
  REQUIRE(reader.is_ok());
  CHECK(reader->header().suspect == "test");
  PredictionRecord got;
  for (int i = 0; i < 2; ++i) {
    auto more = reader->next(got);
    REQUIRE(more.is_ok());
    REQUIRE(*more);
    CHECK(got.ids == r.ids);
    CHECK(got.positions == r.positions);
    CHECK(got.predicted == r.predicted);
    CHECK(got.logprobs == r.logprobs);
    CHECK(got.doc == r.doc);
  }
  auto end = reader->next(got);
  REQUIRE(end.is_ok());
  CHECK_FALSE(*end);
}

TEST_CASE("malformed predictions are refused with a message naming the field", "[radio][predictions]") {
  struct Case {
    const char* line;
    const char* expect;
  };
  const Case cases[] = {
      {"not json", "not valid JSON"},
      {"[1,2]", "JSON object"},
      {R"({"positions":[],"predicted":[]})", "missing 'ids'"},
      {R"({"ids":[1,512],"positions":[],"predicted":[]})", "not a token id in [0, 512)"},
      {R"({"ids":[1,-1],"positions":[],"predicted":[]})", "not a token id"},
      {R"({"ids":[1,2.5],"positions":[],"predicted":[]})", "not a token id"},
      {R"({"ids":[1,2],"positions":[0],"predicted":[[1]]})", "not a position in [1, 2]"},
      {R"({"ids":[1,2],"positions":[3],"predicted":[[1]]})", "not a position in [1, 2]"},
      {R"({"ids":[1,2],"positions":[2,1],"predicted":[[1],[1]]})", "strictly increasing"},
      {R"({"ids":[1,2],"positions":[1,1],"predicted":[[1],[1]]})", "strictly increasing"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[]})", "one list of ids per position"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[]]})", "1 to 64 ids"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[3,3]]})", "repeats id 3"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[3]],"logprobs":[[0.5]]})", "<= 0"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[3,4]],"logprobs":[[-2,-1]]})", "non-increasing"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[3]],"logprobs":[[-1,-2]]})", "one value per predicted id"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[3]],"logprobs":[["x"]]})", "must be numbers"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[3]],"doc":5})", "'doc' must be a string"},
      {R"({"ids":[1,2],"positions":[1],"predicted":[[99999999999999999999]]})", "not a token id"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    auto r = parse_prediction_record(c.line, 512);
    REQUIRE_FALSE(r.is_ok());
    CHECK_THAT(r.status().message(), Catch::Contains(c.expect));
  }
  const Case headers[] = {
      {"", "not a JSON object"},
      {R"({"version":1,"vocab_size":5})", "not a predictions header"},
      {R"({"telltale":"predictions","version":2,"vocab_size":5})", "version 2"},
      {R"({"telltale":"predictions","version":1,"vocab_size":0})", "vocab_size"},
      {R"({"telltale":"predictions","version":1,"vocab_size":5,"tokenizer_sha256":"ABC"})", "64 lowercase hex"},
  };
  for (const Case& c : headers) {
    INFO(c.line);
    auto h = parse_predictions_header(c.line);
    REQUIRE_FALSE(h.is_ok());
    CHECK_THAT(h.status().message(), Catch::Contains(c.expect));
  }
  // In a file, the error names the file and the line.
  test::ScratchDir dir("radio-bad");
  const std::string path =
      dir.file("p.jsonl", std::string(kHeader) + "\n" + R"({"ids":[1],"positions":[1],"predicted":[[2]]})" + "\n{\n");
  auto reader = PredictionReader::open(path);
  REQUIRE(reader.is_ok());
  PredictionRecord r;
  REQUIRE(reader->next(r).is_ok());
  auto bad = reader->next(r);
  REQUIRE_FALSE(bad.is_ok());
  CHECK_THAT(bad.status().message(), Catch::StartsWith(path + ":3: "));
  CHECK_FALSE(PredictionReader::open(dir.path("missing")).is_ok());
  CHECK_FALSE(PredictionReader::open(dir.file("empty", "")).is_ok());
}

TEST_CASE("the context filter holds every inserted window and its false-positive rate matches its estimate",
          "[radio][filter]") {
  auto f = ContextFilter::create(4, 20000, 0.01);
  REQUIRE(f.is_ok());
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int32_t> id(0, 511);
  std::vector<std::array<int32_t, 4>> members(20000);
  for (auto& w : members) {
    for (auto& x : w) x = id(rng);
    f->insert(w);
  }
  for (const auto& w : members) REQUIRE(f->contains(w));
  const double fpr = f->false_positive_rate();
  CHECK(fpr > 0.003);
  CHECK(fpr < 0.02);
  // Fresh random windows (almost surely not members): their pass count is Binomial(n, fpr) up to double hashing.
  const uint64_t n = 200000;
  uint64_t passed = 0;
  for (uint64_t i = 0; i < n; ++i) {
    std::array<int32_t, 4> w{};
    for (auto& x : w) x = id(rng);
    passed += f->contains(w);
  }
  INFO("passed " << passed << " of " << n << ", estimate " << fpr);
  CHECK(stats::log_binomial_sf(passed, n, fpr) > std::log(1e-6));
  CHECK(stats::log_binomial_cdf(passed, n, fpr) > std::log(1e-6));
}

TEST_CASE("a context filter file round-trips and a corrupt one is refused", "[radio][filter]") {
  test::ScratchDir dir("radio-filter");
  auto f = ContextFilter::create(4, 1000, 0.01);
  REQUIRE(f.is_ok());
  const std::array<int32_t, 4> w{1, 2, 3, 4};
  f->insert(w);
  const std::string path = dir.path("f.ttcf");
  REQUIRE(f->write(path).is_ok());
  auto back = ContextFilter::read(path);
  REQUIRE(back.is_ok());
  CHECK(back->contains(w));
  CHECK(back->bits() == f->bits());
  CHECK(back->probes() == f->probes());
  CHECK(back->inserted() == 1);

  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto refuse = [&dir](const std::string& name, const std::string& b, const char* why) {
    auto r = ContextFilter::read(dir.file(name, b));
    REQUIRE_FALSE(r.is_ok());
    CHECK_THAT(r.status().message(), Catch::Contains(why));
  };
  std::string flipped = bytes;
  flipped[50] = static_cast<char>(flipped[50] ^ 1);
  refuse("flipped", flipped, "checksum mismatch");
  refuse("truncated", bytes.substr(0, bytes.size() - 40), "truncated");
  refuse("header", bytes.substr(0, 20), "truncated header");
  refuse("magic", "PK\x03\x04" + bytes.substr(4), "bad magic");
  refuse("trailing", bytes + "x", "trailing bytes");
  std::string huge = bytes;
  huge[31] = 0x7f;  // bits field claims ~2^63 bits
  refuse("huge", huge, "bit count out of range");
  CHECK_FALSE(ContextFilter::create(0, 10, 0.01).is_ok());
  CHECK_FALSE(ContextFilter::create(4, 10, 0.0).is_ok());
  CHECK_FALSE(ContextFilter::create(4, uint64_t{1} << 50, 1e-9).is_ok());
}

TEST_CASE("the suspect scorer scores each fresh context once and only teacher contexts with a filter",
          "[radio][scorer]") {
  const KeyRing keys = test::fixed_key(3);
  Detector det = test::make_detector(keys, SchemeKind::kKgw);  // h = 4
  PredictionRecord r;
  // Window (1,2,3,4) occurs at positions 4 and 9 (its second occurrence is not fresh).
  r.ids = {1, 2, 3, 4, 5, 1, 2, 3, 4, 6, 7};
  for (uint32_t p = 1; p <= 11; ++p) {
    r.positions.push_back(p);
    r.predicted.push_back({static_cast<int32_t>(100 + p), static_cast<int32_t>(200 + p)});
  }
  std::vector<ScoredTuple> tuples;
  auto scorer = SuspectScorer::create(det, {}).value();
  scorer.add(r, [&tuples](const ScoredTuple& t) { tuples.push_back(t); });
  const SuspectCounts& c = scorer.counts();
  CHECK(c.positions == 11);
  CHECK(c.no_context == 3);
  CHECK(c.repeated_context == 1);
  CHECK(c.scored_positions == 7);
  CHECK(c.scored_tuples == 7);  // top-1 by default
  REQUIRE(tuples.size() == 7);
  CHECK(tuples[0].position == 4);
  CHECK(tuples[0].token == 104);
  CHECK(tuples[0].score == det.score(std::vector<int32_t>{1, 2, 3, 4}, 104));
  // The same record again: every window is now seen.
  scorer.add(r);
  CHECK(scorer.counts().repeated_context == 1 + 8);
  CHECK(scorer.tally().scored == 7);

  // Top-2 scores both ids of a position; a filter of one window keeps that window only (no false positives at
  // this size with overwhelming probability: the estimate is printed if not).
  auto filter = ContextFilter::create(4, 100, 1e-6).value();
  filter.insert(std::vector<int32_t>{5, 1, 2, 3});
  SuspectRules rules;
  rules.filter = &filter;
  rules.max_rank = 2;
  auto filtered = SuspectScorer::create(det, rules).value();
  tuples.clear();
  filtered.add(r, [&tuples](const ScoredTuple& t) { tuples.push_back(t); });
  INFO("filter FPR " << filter.false_positive_rate());
  REQUIRE(tuples.size() == 2);
  CHECK(tuples[0].position == 8);
  CHECK(tuples[1].rank == 1);
  CHECK(filtered.counts().filtered_out == 6);

  // A filter for another window width is refused.
  auto narrow = ContextFilter::create(3, 100, 0.01).value();
  rules.filter = &narrow;
  CHECK_FALSE(SuspectScorer::create(det, rules).is_ok());

  // Closed mode: prompt windows count as seen, the answer's ids are its choices.
  const std::vector<int32_t> prompt{1, 2, 3, 4, 9};
  const std::vector<int32_t> answer{1, 2, 3, 4, 8, 9};
  auto closed = SuspectScorer::create(det, {}).value();
  closed.add(answer_record(prompt, answer));
  CHECK(closed.counts().positions == 6);
  CHECK(closed.counts().repeated_context == 1);  // (1,2,3,4) was followed by 9 in the prompt
  CHECK(closed.counts().scored_positions == 5);
}
