// Calibration of the verifier on real human text, which never saw any of the keys: false-positive rates at
// alpha = 1e-2 and 1e-3 stay within binomial bounds for every scheme and several keys; without tuple
// de-duplication repetitive text gets falsely small p-values; and a z-test is anti-conservative on real scores.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "reference_model.hpp"
#include "score/corpus_scanner.hpp"
#include "score/document_scorer.hpp"
#include "score/tally.hpp"
#include "stats/tails.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::score;

namespace {

// The largest count k such that P(Bin(n, alpha) > k) > 1e-6: a false-positive count above it has probability
// below 1e-6 when every test is valid at level alpha (the exact tests are, conservatively).
uint64_t upper_bound_count(uint64_t n, double alpha) {
  uint64_t k = 0;
  while (stats::log_binomial_sf(k + 1, n, alpha) > std::log(1e-6)) ++k;
  return k;
}

std::string corpus(const char* name) { return std::string(test::kSharedDir) + "/corpora/" + name; }

input::Tokenizer load_tokenizer() { return std::move(*test::reference_tokenizer()); }

struct Analysis {
  Detector detector;
  std::string name;
};

}  // namespace

TEST_CASE("calibration: false positives on human corpora stay within binomial bounds of alpha", "[verify][calib]") {
  const auto tokenizer = load_tokenizer();
  std::vector<Analysis> analyses;
  for (uint8_t key = 10; key < 13; ++key) {
    const KeyRing keys = test::fixed_key(key);
    for (auto scheme : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament}) {
      analyses.push_back({test::make_detector(keys, scheme, static_cast<uint32_t>(tokenizer.vocab_size())),
                          std::string(scheme_name(scheme)) + " key " + std::to_string(key)});
    }
  }
  {  // the tournament's weighted-mean score (exact tail for short documents, Chernoff bound for long ones)
    SchemeParams weighted = default_params(SchemeKind::kTournament, static_cast<uint32_t>(tokenizer.vocab_size()));
    weighted.tournament.score = TournamentScore::kWeightedMean;
    auto d = Detector::create(test::fixed_key(10), weighted);
    REQUIRE(d.is_ok());
    analyses.push_back({std::move(d).value(), "tournament weighted-mean key 10"});
  }
  std::vector<const Detector*> detectors;
  std::vector<PartialResult> results;
  for (const Analysis& a : analyses) {
    detectors.push_back(&a.detector);
    results.emplace_back(analysis_info(a.detector, a.name, {}, tokenizer.sha256_hex()));
  }
  input::InputOptions in;
  in.max_document_bytes = 1000;  // documents of at most 1000 bytes (about 600 tokens), cut at whitespace
  auto source = input::DocumentSource::open({corpus("austen_6novels.txt"), corpus("tinyshakespeare.txt")}, in);
  REQUIRE(source.is_ok());
  ScanOptions scan;
  scan.threads = 2;
  auto scanner = CorpusScanner::create(&tokenizer, detectors, {}, scan);
  REQUIRE(scanner.is_ok());

  std::vector<uint64_t> tests(analyses.size()), fp2(analyses.size()), fp3(analyses.size());
  auto on_doc = [&](const input::Document&, std::span<const DocumentScore> scores) {
    for (size_t a = 0; a < scores.size(); ++a) {
      if (scores[a].tally.scored == 0) continue;
      const double log_p = evaluate(scores[a].tally, analyses[a].detector.null_model()).log_p;
      ++tests[a];
      if (log_p <= std::log(1e-2)) ++fp2[a];
      if (log_p <= std::log(1e-3)) ++fp3[a];
    }
  };
  REQUIRE(scanner->run(*source, results, on_doc).is_ok());

  uint64_t all_tests = 0, all_fp2 = 0, all_fp3 = 0;
  for (size_t a = 0; a < analyses.size(); ++a) {
    INFO(analyses[a].name << ": " << tests[a] << " documents, " << fp2[a] << " with p <= 1e-2 (bound "
                          << upper_bound_count(tests[a], 1e-2) << "), " << fp3[a] << " with p <= 1e-3 (bound "
                          << upper_bound_count(tests[a], 1e-3) << ")");
    CHECK(tests[a] > 5000);
    CHECK(fp2[a] <= upper_bound_count(tests[a], 1e-2));
    CHECK(fp3[a] <= upper_bound_count(tests[a], 1e-3));
    all_tests += tests[a];
    all_fp2 += fp2[a];
    all_fp3 += fp3[a];
    // The pooled test over the whole corpus (millions of unique tuples) finds nothing either, Bonferroni over the
    // analyses at 1e-3.
    const auto summary = results[a].summarize();
    INFO("pooled over " << summary.pooled.scored << " tuples: p = " << std::exp(summary.pooled.log_p));
    CHECK(summary.pooled.scored > 1000000);
    CHECK(summary.pooled.log_p > std::log(1e-3 / static_cast<double>(analyses.size())));
  }
  INFO("all: " << all_tests << " tests, " << all_fp2 << " at 1e-2, " << all_fp3 << " at 1e-3");
  CHECK(all_fp2 <= upper_bound_count(all_tests, 1e-2));
  CHECK(all_fp3 <= upper_bound_count(all_tests, 1e-3));
}

TEST_CASE("without de-duplication repetitive human text gets falsely small p-values; with it, it does not",
          "[verify][calib]") {
  // Copied boilerplate: each document is one human paragraph repeated 20 times. Under H0 a valid test rejects
  // at most alpha of them; scoring the repeats again multiplies one paragraph's chance excess by 20.
  const auto tokenizer = load_tokenizer();
  const KeyRing keys = test::fixed_key(20);
  const Detector det = test::make_detector(keys, SchemeKind::kKgw, static_cast<uint32_t>(tokenizer.vocab_size()));
  auto dedup = DocumentScorer::create(det, {}).value();
  ScoringRules off;
  off.dedup = false;
  auto raw = DocumentScorer::create(det, off).value();

  input::InputOptions in;
  in.split = input::TextSplit::kParagraph;
  auto source = input::DocumentSource::open({corpus("austen_6novels.txt")}, in);
  REQUIRE(source.is_ok());
  input::Document doc;
  std::vector<int32_t> ids, repeated;
  uint64_t n = 0, fp_raw = 0, fp_dedup = 0;
  DocumentScore a, b;
  const double alpha = 1e-3;
  while (n < 3000) {
    auto got = source->next(doc);
    REQUIRE(got.is_ok());
    if (!*got) break;
    REQUIRE(tokenizer.encode(doc.text, ids).is_ok());
    if (ids.size() < 40) continue;  // a paragraph with at least ~36 scored tuples
    repeated.clear();
    for (int r = 0; r < 20; ++r) repeated.insert(repeated.end(), ids.begin(), ids.end());
    raw.score(repeated, 0, a);
    dedup.score(repeated, 0, b);
    ++n;
    if (evaluate(a.tally, det.null_model()).log_p <= std::log(alpha)) ++fp_raw;
    if (evaluate(b.tally, det.null_model()).log_p <= std::log(alpha)) ++fp_dedup;
  }
  INFO(n << " repeated paragraphs: " << fp_raw << " falsely detected without de-dup, " << fp_dedup
         << " with it; bound at alpha " << alpha << ": " << upper_bound_count(n, alpha));
  REQUIRE(n == 3000);
  CHECK(fp_dedup <= upper_bound_count(n, alpha));
  // Without de-duplication the false-positive rate is many times alpha (a paragraph with a green fraction of
  // about 0.35 over 40 tuples reaches p ~ 1e-6 when counted 20 times).
  CHECK(fp_raw > 20 * upper_bound_count(n, alpha));
}

TEST_CASE("the normal approximation is anti-conservative on real detector scores at small p", "[verify][calib]") {
  // 200000 unwatermarked documents of 25 scored tuples each (KGW, gamma 0.25): the z-test at nominal 1e-3
  // (z >= 3.09) rejects when the green count is >= 13, whose exact probability is 3.37e-3; the exact test rejects
  // only where P(Bin(25, 0.25) >= k) <= 1e-3.
  const KeyRing keys = test::fixed_key(30);
  const Detector det = test::make_detector(keys, SchemeKind::kKgw);
  ScoringRules off;
  off.dedup = false;  // random ids: tuples practically never repeat; scoring all keeps exactly 25 per document
  auto scorer = DocumentScorer::create(det, off).value();
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int32_t> id(0, 511);
  std::vector<int32_t> tokens(det.window_size() + 25);
  DocumentScore d;
  const uint64_t docs = 200000;
  uint64_t z_rejects = 0, exact_rejects = 0;
  const double z0 = 3.0902323061678132;  // P(Z >= z0) = 1e-3
  for (uint64_t i = 0; i < docs; ++i) {
    for (auto& t : tokens) t = id(rng);
    scorer.score(tokens, 0, d);
    REQUIRE(d.tally.scored == 25);
    const Evidence e = evaluate(d.tally, det.null_model());
    if (e.z >= z0) ++z_rejects;
    if (e.log_p <= std::log(1e-3)) ++exact_rejects;
  }
  const uint64_t bound = upper_bound_count(docs, 1e-3);
  INFO("z-test: " << z_rejects << " false positives, exact test: " << exact_rejects << ", bound at 1e-3: " << bound
                  << " (expected z-test count 674 = 3.37e-3 x 200000)");
  CHECK(exact_rejects <= bound);
  CHECK(z_rejects > bound);
  // And the z-test's rate agrees with its exact value 3.37e-3 (6 sd bounds of Bin(200000, 3.37e-3)).
  CHECK(std::fabs(static_cast<double>(z_rejects) - 674.1) < 6 * std::sqrt(674.1));
}

TEST_CASE("calibration: the corrected window search does not flag human text beyond alpha", "[verify][calib]") {
  // The window p-value is Bonferroni-corrected for every window tried in the document; under H0 it is valid (and
  // conservative), so the documents it flags at alpha stay within the binomial bound of alpha.
  const auto tokenizer = load_tokenizer();
  const auto vocab = static_cast<uint32_t>(tokenizer.vocab_size());
  const Detector kgw = test::make_detector(test::fixed_key(50), SchemeKind::kKgw, vocab);
  const Detector gumbel = test::make_detector(test::fixed_key(51), SchemeKind::kGumbel, vocab);
  const Detector* detectors[] = {&kgw, &gumbel};
  ScoringRules rules;
  rules.window_min = 16;
  std::vector<PartialResult> results;
  for (const Detector* d : detectors) results.emplace_back(analysis_info(*d, "k", rules, tokenizer.sha256_hex()));
  input::InputOptions in;
  in.max_document_bytes = 1000;
  auto source = input::DocumentSource::open({corpus("austen_6novels.txt")}, in);
  REQUIRE(source.is_ok());
  ScanOptions scan;
  scan.threads = 2;
  auto scanner = CorpusScanner::create(&tokenizer, detectors, rules, scan);
  REQUIRE(scanner.is_ok());
  uint64_t searched = 0, flagged2 = 0, flagged3 = 0;
  auto on_doc = [&](const input::Document&, std::span<const DocumentScore> scores) {
    for (const DocumentScore& s : scores) {
      if (!s.window_searched) continue;
      ++searched;
      if (s.window.log_p_corrected <= std::log(1e-2)) ++flagged2;
      if (s.window.log_p_corrected <= std::log(1e-3)) ++flagged3;
    }
  };
  REQUIRE(scanner->run(*source, results, on_doc).is_ok());
  INFO(searched << " window searches: " << flagged2 << " at 1e-2 (bound " << upper_bound_count(searched, 1e-2) << "), "
                << flagged3 << " at 1e-3 (bound " << upper_bound_count(searched, 1e-3) << ")");
  CHECK(searched > 7000);
  CHECK(flagged2 <= upper_bound_count(searched, 1e-2));
  CHECK(flagged3 <= upper_bound_count(searched, 1e-3));
  // The corpus-level window test (best document, corrected again for the documents searched) finds nothing.
  for (PartialResult& r : results) CHECK(r.summarize().window_log_p > std::log(1e-3));
}
