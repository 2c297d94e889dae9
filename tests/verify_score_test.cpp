// verify/score: what counts as a scored tuple (first window, prompt, de-duplication), exact and order-independent
// sums, the exact merge of partial results, and the tuple set spilled to disk under a memory limit.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "reference_model.hpp"
#include "score/corpus_scanner.hpp"
#include "score/document_scorer.hpp"
#include "score/exact_sum.hpp"
#include "score/partial_file.hpp"
#include "score/partial_merge.hpp"
#include "score/partial_result.hpp"
#include "score/tally.hpp"
#include "score/tuple_merge.hpp"
#include "stats/tails.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::score;
using telltale::test::fixed_key;
using telltale::test::make_detector;

namespace {

std::vector<int32_t> random_tokens(size_t n, uint64_t seed, int32_t vocab = 512) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> id(0, vocab - 1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = id(rng);
  return t;
}

DocumentScore score_doc(DocumentScorer& s, const std::vector<int32_t>& tokens, size_t prompt = 0) {
  DocumentScore out;
  s.score(tokens, prompt, out);
  return out;
}

// Two summaries are the same, bit for bit.
void check_same_summary(const CorpusSummary& s1, const CorpusSummary& s2) {
  CHECK(s1.documents == s2.documents);
  CHECK(s1.tokens == s2.tokens);
  CHECK(s1.pooled.scored == s2.pooled.scored);
  CHECK(std::bit_cast<uint64_t>(s1.pooled.statistic) == std::bit_cast<uint64_t>(s2.pooled.statistic));
  CHECK(std::bit_cast<uint64_t>(s1.pooled.log_p) == std::bit_cast<uint64_t>(s2.pooled.log_p));
  CHECK(std::bit_cast<uint64_t>(s1.fisher_log_p) == std::bit_cast<uint64_t>(s2.fisher_log_p));
  CHECK(s1.fisher_documents == s2.fisher_documents);
  CHECK(s1.duplicates_across_documents == s2.duplicates_across_documents);
  CHECK(s1.window_doc == s2.window_doc);
  CHECK(std::bit_cast<uint64_t>(s1.window_log_p) == std::bit_cast<uint64_t>(s2.window_log_p));
}

// The rules of the merge tests: the windowed search from 16 tokens, with or without de-duplication.
ScoringRules windowed_rules(bool dedup) {
  ScoringRules rules;
  rules.dedup = dedup;
  rules.window_min = 16;
  return rules;
}

AnalysisInfo analysis_info(const Detector& det, const ScoringRules& rules) {
  return {"id", describe(det.params()), det.null_model(), det.window_size(), rules, ""};
}

}  // namespace

TEST_CASE("an exact sum is the same in any order and equals the double sum of 0/1 scores", "[verify]") {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> ex(1.0);
  std::vector<double> xs(10000);
  for (auto& x : xs) x = ex(rng);
  ExactSum forward, backward, halves_a, halves_b;
  for (double x : xs) forward.add(x);
  for (size_t i = xs.size(); i-- > 0;) backward.add(xs[i]);
  for (size_t i = 0; i < xs.size(); i += 2) halves_a.add(xs[i]);
  for (size_t i = 1; i < xs.size(); i += 2) halves_b.add(xs[i]);
  halves_a.add(halves_b);
  CHECK(forward == backward);
  CHECK(forward == halves_a);
  long double ref = 0;
  for (double x : xs) ref += x;
  CHECK(std::fabs(forward.value() - static_cast<double>(ref)) < 1e-9);
  ExactSum ones;
  for (int i = 0; i < 1234; ++i) ones.add(1.0);
  CHECK(ones.value() == 1234.0);
}

TEST_CASE("the first window and the prompt are never scored", "[verify]") {
  const auto keys = fixed_key(1);
  const auto det = make_detector(keys, SchemeKind::kKgw);
  auto scorer = DocumentScorer::create(det, {}).value();
  const auto tokens = random_tokens(100, 3);
  auto d = score_doc(scorer, tokens);
  CHECK(d.tokens == 100);
  CHECK(d.no_context == det.window_size());
  CHECK(d.tally.scored + d.duplicates == 100 - det.window_size());
  auto with_prompt = score_doc(scorer, tokens, 30);
  CHECK(with_prompt.prompt_tokens == 30);
  CHECK(with_prompt.no_context == 0);
  CHECK(with_prompt.tally.scored + with_prompt.duplicates == 70);
  // A document shorter than the window scores nothing.
  auto tiny = score_doc(scorer, {1, 2});
  CHECK(tiny.tally.scored == 0);
  CHECK(tiny.no_context == 2);
}

TEST_CASE("a repeated n-gram is scored once", "[verify]") {
  const auto keys = fixed_key(2);
  const auto det = make_detector(keys, SchemeKind::kKgw);
  auto dedup = DocumentScorer::create(det, {}).value();
  ScoringRules off;
  off.dedup = false;
  auto raw = DocumentScorer::create(det, off).value();
  std::vector<int32_t> tokens;
  const auto phrase = random_tokens(20, 5);
  for (int r = 0; r < 50; ++r) tokens.insert(tokens.end(), phrase.begin(), phrase.end());
  const auto a = score_doc(dedup, tokens);
  const auto b = score_doc(raw, tokens);
  // 20 distinct tuples per period: the first 16 of the first copy, then 20 windows that wrap around (all distinct).
  CHECK(a.tally.scored == 20);
  CHECK(a.duplicates == tokens.size() - det.window_size() - 20);
  CHECK(b.tally.scored == tokens.size() - det.window_size());
  CHECK(b.duplicates == 0);
  CHECK(a.entries.size() == a.tally.scored);
}

TEST_CASE("per-document scores agree with the detector's own per-token score", "[verify]") {
  const auto keys = fixed_key(3);
  for (auto scheme : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament}) {
    auto det = make_detector(keys, scheme);
    ScoringRules off;
    off.dedup = false;
    auto scorer = DocumentScorer::create(det, off).value();
    const auto tokens = random_tokens(300, 11);
    const auto d = score_doc(scorer, tokens);
    Tally ref;
    const size_t w = det.window_size();
    for (size_t i = w; i < tokens.size(); ++i) ref.add(det.score(std::span(tokens).subspan(i - w, w), tokens[i]));
    CHECK(d.tally == ref);
  }
}

TEST_CASE("p-values of tallies use the exact null of each scheme", "[verify]") {
  Tally t;
  for (int i = 0; i < 100; ++i) t.add(i < 40 ? 1.0 : 0.0);
  const auto kgw = evaluate(t, {NullKind::kBernoulli, 0.25, 1});
  CHECK(kgw.log_p == stats::log_binomial_sf(40, 100, 0.25));
  CHECK(kgw.favoured_fraction() == 0.4);
  const auto tour = evaluate(t, {NullKind::kBinomial, 0.5, 30});
  CHECK(tour.log_p == stats::log_binomial_sf(40, 3000, 0.5));
  const auto gum = evaluate(t, {NullKind::kExponential, 1.0, 1});
  CHECK(gum.log_p == stats::log_gamma_sf(40.0, 100.0));
  CHECK(evaluate(Tally{}, {}).log_p == 0.0);
}

TEST_CASE("partial results merged in input order equal one pass, bit for bit", "[verify]") {
  const auto keys = fixed_key(4);
  for (auto scheme : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament}) {
    for (bool dedup : {true, false}) {
      const auto det = make_detector(keys, scheme);
      const ScoringRules rules = windowed_rules(dedup);
      auto scorer = DocumentScorer::create(det, rules).value();
      const AnalysisInfo info = analysis_info(det, rules);
      // Documents share phrases, so tuples repeat across documents and across shards.
      std::vector<std::vector<int32_t>> docs;
      const auto common = random_tokens(40, 99);
      for (uint64_t i = 0; i < 30; ++i) {
        auto d = random_tokens(50 + 7 * i, 100 + i);
        if (i % 3 == 0) d.insert(d.begin() + 10, common.begin(), common.end());
        docs.push_back(std::move(d));
      }
      PartialResult one(info);
      for (const auto& d : docs) one.add_document(score_doc(scorer, d));
      PartialResult a(info), b(info), c(info);
      for (size_t i = 0; i < docs.size(); ++i) (i < 9 ? a : i < 20 ? b : c).add_document(score_doc(scorer, docs[i]));
      // Through the file format too.
      telltale::test::ScratchDir dir("merge");
      std::vector<PartialResult> bs;
      bs.push_back(std::move(b));
      REQUIRE(write_partial_file(dir.path("b.part"), bs).is_ok());
      auto back = read_partial_file(dir.path("b.part"));
      REQUIRE(back.is_ok());
      REQUIRE(a.append(std::move(back.value()[0])).is_ok());
      REQUIRE(a.append(std::move(c)).is_ok());
      const auto s1 = one.summarize();
      const auto s2 = a.summarize();
      INFO("scheme " << scheme_name(scheme) << " dedup " << dedup);
      check_same_summary(s1, s2);
      if (dedup) CHECK(s1.duplicates_across_documents > 0);
    }
  }
}

TEST_CASE("partial results of different analyses refuse to merge", "[verify]") {
  const auto det = make_detector(fixed_key(5), SchemeKind::kKgw);
  AnalysisInfo info{"id", describe(det.params()), det.null_model(), det.window_size(), {}, ""};
  PartialResult a(info);
  info.key_id = "other";
  PartialResult b(info);
  CHECK_FALSE(a.append(std::move(b)).is_ok());
}

TEST_CASE("the corpus scanner's results do not depend on the thread count or batch size", "[verify]") {
  auto tokenizer = test::reference_tokenizer();
  const auto keys = fixed_key(6);
  const auto kgw = make_detector(keys, SchemeKind::kKgw);
  const auto gumbel = make_detector(keys, SchemeKind::kGumbel);
  const Detector* dets[] = {&kgw, &gumbel};
  ScoringRules rules;
  rules.window_min = 16;
  input::InputOptions in;
  in.max_document_bytes = 700;
  const std::string corpus = std::string(test::kSharedDir) + "/corpora/tinyshakespeare.txt";
  auto scan = [&](unsigned threads, size_t batch) {
    ScanOptions options;
    options.threads = threads;
    options.batch_documents = batch;
    auto scanner = CorpusScanner::create(&*tokenizer, dets, rules, options);
    REQUIRE(scanner.is_ok());
    auto source = input::DocumentSource::open({corpus}, in);
    REQUIRE(source.is_ok());
    std::vector<PartialResult> results;
    for (const Detector* d : dets) results.emplace_back(analysis_info(*d, "id", rules, tokenizer->sha256_hex()));
    std::vector<double> per_doc;
    REQUIRE(scanner
                ->run(*source, results,
                      [&](const input::Document&, std::span<const DocumentScore> s) {
                        for (const auto& d : s) per_doc.push_back(d.tally.sum.value() + 1e3 * d.window.log_p);
                      })
                .is_ok());
    std::vector<double> out = per_doc;
    for (auto& r : results) {
      const auto s = r.summarize();
      out.insert(out.end(), {s.pooled.log_p, s.pooled.statistic, s.fisher_log_p, s.window_log_p,
                             static_cast<double>(s.duplicates_across_documents)});
    }
    return out;
  };
  const auto one = scan(1, 512);
  REQUIRE(one.size() > 1000);
  for (auto [threads, batch] : {std::pair{2u, size_t{512}}, std::pair{3u, size_t{7}}, std::pair{2u, size_t{1}}}) {
    const auto other = scan(threads, batch);
    INFO(threads << " threads, batches of " << batch);
    REQUIRE(other.size() == one.size());
    bool same = true;
    for (size_t i = 0; i < one.size(); ++i)
      same = same && std::bit_cast<uint64_t>(one[i]) == std::bit_cast<uint64_t>(other[i]);
    CHECK(same);
  }
}

TEST_CASE("a completion that copies its prompt adds no evidence: prompt tuples count as seen", "[verify]") {
  const auto det = make_detector(fixed_key(7), SchemeKind::kKgw);
  auto scorer = DocumentScorer::create(det, {}).value();
  const auto prompt = random_tokens(60, 8);
  std::vector<int32_t> doc = prompt;
  doc.insert(doc.end(), prompt.begin(), prompt.end());  // the completion repeats the prompt verbatim
  DocumentScore d;
  scorer.score(doc, prompt.size(), d);
  CHECK(d.prompt_tokens == 60);
  // Only the tuples whose window straddles the prompt's end are new (window_size of them).
  CHECK(d.tally.scored == det.window_size());
  CHECK(d.duplicates == 60 - det.window_size());
}

TEST_CASE("the streaming merge of partial files equals one pass, bit for bit", "[verify]") {
  const auto keys = fixed_key(9);
  telltale::test::ScratchDir dir("stream-merge");
  for (auto scheme : {SchemeKind::kKgw, SchemeKind::kGumbel}) {
    for (bool dedup : {true, false}) {
      const auto det = make_detector(keys, scheme);
      const ScoringRules rules = windowed_rules(dedup);
      auto scorer = DocumentScorer::create(det, rules).value();
      const AnalysisInfo info = analysis_info(det, rules);
      const auto common = random_tokens(40, 77);
      std::vector<std::vector<int32_t>> docs;
      for (uint64_t i = 0; i < 40; ++i) {
        auto d = random_tokens(30 + 11 * i, 300 + i);
        if (i % 4 == 1) d.insert(d.begin() + 5, common.begin(), common.end());
        docs.push_back(std::move(d));
      }
      PartialResult one(info);
      std::vector<std::string> paths;
      for (size_t shard = 0; shard < 4; ++shard) {
        std::vector<PartialResult> part;
        part.emplace_back(info);
        for (size_t i = shard * 10; i < shard * 10 + 10; ++i) {
          DocumentScore d = score_doc(scorer, docs[i]);
          one.add_document(d);
          part[0].add_document(d);
        }
        paths.push_back(dir.path(std::string(scheme_name(scheme)) + (dedup ? "-d" : "-n") + std::to_string(shard)));
        REQUIRE(write_partial_file(paths.back(), part).is_ok());
      }
      auto merged = merge_partial_files(paths);
      REQUIRE(merged.is_ok());
      REQUIRE(merged->size() == 1);
      const auto s1 = one.summarize();
      const auto& s2 = (*merged)[0].summary;
      INFO("scheme " << scheme_name(scheme) << " dedup " << dedup);
      check_same_summary(s1, s2);
    }
  }
  // A truncated file is refused by name.
  const std::string whole = dir.path("kgw-d0");
  std::ifstream in(whole, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = dir.file("cut.part", bytes.substr(0, bytes.size() - 30));
  auto bad = merge_partial_files({whole, cut});
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message().find("cut.part") != std::string::npos);
}

TEST_CASE("the weighted-mean tournament score is scored, evaluated and refused a window search", "[verify]") {
  SchemeParams params = default_params(SchemeKind::kTournament, 512);
  params.tournament.score = TournamentScore::kWeightedMean;
  auto det = Detector::create(test::fixed_key(3), params);
  REQUIRE(det.is_ok());
  CHECK(det->null_model().kind == NullKind::kWeightedBits);
  ScoringRules window;
  window.window_min = 20;
  CHECK(DocumentScorer::create(*det, window).status().code() == StatusCode::kInvalidArgument);
  // A score is the weighted sum of the token's g-values.
  const std::vector<int32_t> w = {1, 2, 3, 4};
  const uint32_t g = det->g_values(w, 77);
  double expected = 0;
  for (uint32_t l = 0; l < 30; ++l) expected += ((g >> l) & 1u) * tournament_weight(l, 30);
  CHECK(det->score(w, 77) == expected);
  // Short tallies get the exact tail, long ones the (larger, never smaller) Chernoff bound.
  Tally small;
  for (int i = 0; i < 20; ++i) small.add(100.0);
  const Evidence e_small = evaluate(small, det->null_model());
  CHECK_FALSE(e_small.bound);
  Tally large;
  for (int i = 0; i < 2000; ++i) large.add(90.0);
  const Evidence e_large = evaluate(large, det->null_model());
  CHECK(e_large.bound);
  CHECK(e_large.log_p < 0);
  double weight_sum = 0;
  for (uint32_t l = 0; l < 30; ++l) weight_sum += tournament_weight(l, 30);
  CHECK(e_large.expected == 2000 * weight_sum / 2);
  CHECK(e_large.favoured_fraction() == Approx(90.0 / weight_sum));
}

TEST_CASE("a tuple set spilled to disk under a tiny memory limit gives the in-memory result, bit for bit", "[verify]") {
  const auto keys = fixed_key(12);
  telltale::test::ScratchDir dir("spill");
  for (auto scheme : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament}) {
    const auto det = make_detector(keys, scheme);
    ScoringRules rules;
    rules.window_min = 16;
    auto scorer = DocumentScorer::create(det, rules).value();
    const AnalysisInfo info{"id", describe(det.params()), det.null_model(), det.window_size(), rules, ""};
    const auto common = random_tokens(60, 5);
    std::vector<PartialResult> memory, spilled;
    memory.emplace_back(info);
    spilled.emplace_back(info);
    spilled[0].set_memory_limit(4096, dir.str());  // about 40 records: a run every document or two
    for (uint64_t i = 0; i < 60; ++i) {
      auto d = random_tokens(40 + 13 * (i % 9), 500 + i % 45);  // documents 45.. repeat earlier ones whole
      if (i % 4 == 2) d.insert(d.begin() + 3, common.begin(), common.end());
      const DocumentScore s = score_doc(scorer, d);
      memory[0].add_document(s);
      spilled[0].add_document(s);
    }
    INFO("scheme " << scheme_name(scheme));
    CHECK(spilled[0].state().entries.size() < 200);  // the rest is on disk
    auto s1 = memory[0].summarize_checked();
    auto s2 = spilled[0].summarize_checked();
    REQUIRE(s1.is_ok());
    REQUIRE(s2.is_ok());
    CHECK(s1->duplicates_across_documents > 0);
    check_same_summary(*s1, *s2);
    // The partial file written from the spilled runs is the in-memory one, byte for byte.
    const std::string name = scheme_name(scheme);
    REQUIRE(write_partial_file(dir.path(name + "-memory.part"), memory).is_ok());
    REQUIRE(write_partial_file(dir.path(name + "-spilled.part"), spilled).is_ok());
    auto bytes = [](const std::string& path) {
      std::ifstream in(path, std::ios::binary);
      return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    CHECK(bytes(dir.path(name + "-memory.part")) == bytes(dir.path(name + "-spilled.part")));
  }
  // Nothing is left in the spill directory: the run file is unnamed from the start.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.str()), std::filesystem::directory_iterator()) == 6);
}

TEST_CASE("the k-way merge keeps the earliest run's record of a hash", "[verify]") {
  const std::vector<std::vector<TupleEntry>> runs = {
      {{1, 0, 1.0}, {5, 0, 1.0}, {9, 1, 0.0}}, {{1, 2, 0.0}, {4, 3, 1.0}, {9, 4, 1.0}}, {{0, 5, 1.0}, {5, 6, 0.0}}};
  std::vector<EntrySource> sources;
  std::vector<size_t> at(runs.size(), 0);
  for (size_t r = 0; r < runs.size(); ++r) {
    sources.emplace_back([&, r](TupleEntry& e) -> Result<bool> {
      if (at[r] == runs[r].size()) return false;
      e = runs[r][at[r]++];
      return true;
    });
  }
  std::vector<std::pair<uint64_t, uint64_t>> kept;  // (hash, document)
  REQUIRE(merge_entry_sources(sources, [&](const TupleEntry& e, size_t) { kept.emplace_back(e.hash, e.doc); }).is_ok());
  CHECK(kept == std::vector<std::pair<uint64_t, uint64_t>>{{0, 5}, {1, 0}, {4, 3}, {5, 0}, {9, 1}});
}

TEST_CASE("a spill directory that cannot be written is one error naming it, never a partial answer", "[verify]") {
  const auto keys = fixed_key(13);
  const auto det = make_detector(keys, SchemeKind::kKgw);
  auto scorer = DocumentScorer::create(det, ScoringRules{}).value();
  const AnalysisInfo info{"id", describe(det.params()), det.null_model(), det.window_size(), ScoringRules{}, ""};
  PartialResult r(info);
  r.set_memory_limit(4096, "/nonexistent/spill");
  for (uint64_t i = 0; i < 10; ++i) r.add_document(score_doc(scorer, random_tokens(300, 900 + i)));
  auto s = r.summarize_checked();
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.status().message().find("/nonexistent/spill: cannot create a spill file") == 0);
}

TEST_CASE("merge --emit-partial under a memory limit spills file by file and writes the same merged partial",
          "[verify]") {
  const auto keys = fixed_key(14);
  telltale::test::ScratchDir dir("spill-merge");
  const auto det = make_detector(keys, SchemeKind::kGumbel);
  ScoringRules rules;
  rules.window_min = 16;
  auto scorer = DocumentScorer::create(det, rules).value();
  const AnalysisInfo info{"id", describe(det.params()), det.null_model(), det.window_size(), rules, ""};
  std::vector<std::string> paths;
  for (uint64_t shard = 0; shard < 4; ++shard) {
    std::vector<PartialResult> part;
    part.emplace_back(info);
    for (uint64_t i = 0; i < 8; ++i) part[0].add_document(score_doc(scorer, random_tokens(120, 700 + (shard + i) % 9)));
    paths.push_back(dir.path("s" + std::to_string(shard)));
    REQUIRE(write_partial_file(paths.back(), part).is_ok());
  }
  auto memory = read_merged_partial_files(paths);
  auto spilled = read_merged_partial_files(paths, 4096, dir.str());
  REQUIRE(memory.is_ok());
  REQUIRE(spilled.is_ok());
  CHECK((*spilled)[0].state().entries.empty());  // every file's tuples went to disk
  REQUIRE(write_partial_file(dir.path("memory.part"), *memory).is_ok());
  REQUIRE(write_partial_file(dir.path("spilled.part"), *spilled).is_ok());
  auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  CHECK(bytes(dir.path("memory.part")) == bytes(dir.path("spilled.part")));
  auto s1 = (*memory)[0].summarize_checked();
  auto s2 = (*spilled)[0].summarize_checked();
  REQUIRE((s1.is_ok() && s2.is_ok()));
  CHECK(s1->duplicates_across_documents > 0);
  check_same_summary(*s1, *s2);
}
