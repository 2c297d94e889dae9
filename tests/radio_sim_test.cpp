// Radioactivity on a real (small) distillation: the reference model writes KGW-watermarked stories W and plain ones
// U; n-gram students are trained on mixtures. Controls: readers that never trained on the key's text give exact
// null p-values (tested on blocks of a fixed number of scored tuples, which are independent under H0 by the
// fresh-context rule: spec/radioactivity.md section 2); a student with 5% watermarked data is detected.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "distillation.hpp"
#include "generator.hpp"
#include "next_token_predictor.hpp"
#include "radio/context_filter.hpp"
#include "radio/suspect_scorer.hpp"
#include "reference_model.hpp"
#include "stats/tails.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::radio;

namespace {

struct Simulation {
  KeyRing key = test::fixed_key(61);
  SchemeParams params = default_params(SchemeKind::kKgw, 512);  // gamma 0.25, delta 2, h 4
  refmodel::Llama2cModel model;
  distill::Corpus wm;     // watermarked with `key`
  distill::Corpus plain;  // the same process without the key
};

// Generated once for every test of this file (about 20k tokens from the reference model).
Simulation& simulation() {
  static std::unique_ptr<Simulation> sim = [] {
    auto model = test::reference_model();
    auto s = std::unique_ptr<Simulation>(
        new Simulation{test::fixed_key(61), default_params(SchemeKind::kKgw, 512), std::move(*model), {}, {}});
    auto hook = Hook::create(s->key, s->params);
    REQUIRE(hook.is_ok());
    distill::TeacherOptions t;
    t.documents = 40;
    t.seed = 7000;
    auto wm = distill::teacher_corpus(s->model, &*hook, t);
    REQUIRE(wm.is_ok());
    s->wm = std::move(wm).value();
    t.seed = 9000;
    auto plain = distill::teacher_corpus(s->model, nullptr, t);
    REQUIRE(plain.is_ok());
    s->plain = std::move(plain).value();
    return s;
  }();
  return *sim;
}

distill::NgramStudent student(const Simulation& sim, double rho, uint64_t tokens) {
  auto mix = distill::mixture(sim.wm, sim.plain, rho, tokens);
  REQUIRE(mix.is_ok());
  auto s = distill::NgramStudent::train(mix->docs, 5, 512, refmodel::kLlama2cBos);
  REQUIRE(s.is_ok());
  return std::move(s).value();
}

// p-values of consecutive blocks of `block` scored tuples (a trailing partial block is dropped).
struct Blocks {
  std::vector<double> log_p;
  uint64_t tuples = 0;
  uint64_t green = 0;
};

void score_blocks(const Detector& det, const ContextFilter* filter, const std::vector<PredictionRecord>& records,
                  uint64_t block, Blocks& out) {
  SuspectRules rules;
  rules.filter = filter;
  auto scorer = SuspectScorer::create(det, rules);
  REQUIRE(scorer.is_ok());
  uint64_t in_block = 0, green = 0;
  const double gamma = det.null_model().p;
  for (const auto& r : records) {
    scorer->add(r, [&](const ScoredTuple& t) {
      green += t.score > 0.5;
      if (++in_block == block) {
        out.log_p.push_back(stats::log_binomial_sf(green, block, gamma));
        out.green += green;
        out.tuples += block;
        in_block = green = 0;
      }
    });
  }
}

// Checks that the block p-values are valid: at levels 0.05 and 0.01 the count of p <= a stays within what
// Binomial(n, a) reaches with probability 1 - 1e-6, and the pooled green count is not above gamma (exact tail).
void check_null(const char* what, const Blocks& b, double gamma) {
  INFO(what << ": " << b.log_p.size() << " blocks, " << b.tuples << " tuples, green fraction "
            << static_cast<double>(b.green) / static_cast<double>(b.tuples));
  REQUIRE(b.log_p.size() >= 50);
  for (const double a : {0.05, 0.01}) {
    uint64_t hits = 0;
    for (const double lp : b.log_p) hits += lp <= std::log(a);
    uint64_t bound = 0;  // smallest k with P(Bin(n, a) >= k) <= 1e-6
    while (stats::log_binomial_sf(bound, b.log_p.size(), a) > std::log(1e-6)) ++bound;
    INFO("level " << a << ": " << hits << " blocks at or below it, bound " << bound);
    CHECK(hits < bound);
  }
  CHECK(stats::log_binomial_sf(b.green, b.tuples, gamma) > std::log(1e-6));
}

}  // namespace

TEST_CASE("readers that never trained on the key's text give null p-values on watermarked text",
          "[radio][sim][calibration]") {
  Simulation& sim = simulation();
  auto det = Detector::create(sim.key, sim.params);
  REQUIRE(det.is_ok());
  const double gamma = det->null_model().p;
  constexpr uint64_t kBlock = 64;

  SECTION("the reference model itself (the teacher's own weights, without the key) reading W") {
    std::vector<PredictionRecord> records;
    for (const auto& doc : sim.wm.docs) {
      auto top = refmodel::predict_next_tokens(sim.model, doc, 1);
      REQUIRE(top.is_ok());
      PredictionRecord r;
      r.ids = doc;
      for (size_t p = 1; p <= doc.size(); ++p) r.positions.push_back(static_cast<uint32_t>(p));
      r.predicted = std::move(top->ids);
      records.push_back(std::move(r));
    }
    Blocks b;
    score_blocks(*det, nullptr, records, kBlock, b);
    check_null("reference model, reading mode", b, gamma);
  }
  SECTION("a student trained without watermarked data (rho = 0), reading W and answering prompts") {
    const auto s = student(sim, 0.0, 8000);
    Blocks open;
    score_blocks(*det, nullptr, distill::student_reads(s, sim.wm), kBlock, open);
    check_null("rho = 0, reading mode", open, gamma);
    // Closed mode through a deliberately loose filter (rate ~0.2): admitted non-teacher contexts are null too.
    auto filter = ContextFilter::create(det->window_size(), sim.wm.tokens / 8, 0.2);
    REQUIRE(filter.is_ok());
    for (const auto& d : sim.wm.docs)
      for (size_t i = 4; i <= d.size(); ++i) filter->insert(std::span(d).subspan(i - 4, 4));
    Blocks closed;
    score_blocks(*det, &*filter, distill::student_answers(s, sim.wm, 8, 256, 5), kBlock, closed);
    check_null("rho = 0, closed mode", closed, gamma);
  }
  SECTION("a student trained on another key's text (all of W), tested for 12 keys it never saw") {
    const auto s = student(sim, 1.0, 8000);
    const auto records = distill::student_reads(s, sim.wm);
    Blocks all;
    for (uint8_t k = 0; k < 12; ++k) {
      auto other = Detector::create(test::fixed_key(static_cast<uint8_t>(100 + k)), sim.params);
      REQUIRE(other.is_ok());
      score_blocks(*other, nullptr, records, kBlock, all);
    }
    check_null("different keys, reading mode", all, gamma);
  }
}

TEST_CASE("a student with 5% watermarked training data is detected at p < 1e-5 in reading mode",
          "[radio][sim][power]") {
  Simulation& sim = simulation();
  auto det = Detector::create(sim.key, sim.params);
  REQUIRE(det.is_ok());
  const auto s = student(sim, 0.05, 8000);
  // The owner reads the stories the student may have seen: here the watermarked documents of its mixture.
  distill::Corpus trained;
  for (const auto& d : sim.wm.docs) {
    if (trained.tokens >= 400) break;
    trained.docs.push_back(d);
    trained.tokens += d.size();
  }
  auto scorer = SuspectScorer::create(*det, {}).value();
  for (const auto& r : distill::student_reads(s, trained)) scorer.add(r);
  const auto e = scorer.evidence();
  INFO(e.scored << " tuples, green fraction " << e.favoured_fraction() << ", log10 p "
                << stats::log10_from_ln(e.log_p));
  CHECK(e.log_p < std::log(1e-5));

  // The same for a student with 100% watermarked data answering prompts (closed mode, teacher filter).
  const auto full = student(sim, 1.0, 8000);
  auto filter = ContextFilter::create(det->window_size(), sim.wm.tokens, 1e-4).value();
  for (const auto& d : sim.wm.docs)
    for (size_t i = 4; i <= d.size(); ++i) filter.insert(std::span(d).subspan(i - 4, 4));
  SuspectRules rules;
  rules.filter = &filter;
  auto closed = SuspectScorer::create(*det, rules).value();
  for (const auto& r : distill::student_answers(full, sim.wm, 8, 256, 3)) closed.add(r);
  const auto c = closed.evidence();
  INFO("closed: " << c.scored << " tuples, green fraction " << c.favoured_fraction() << ", log10 p "
                  << stats::log10_from_ln(c.log_p));
  CHECK(c.log_p < std::log(1e-5));
}
