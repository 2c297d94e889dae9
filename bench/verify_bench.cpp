// Benchmarks of the verifier (verify/score). Results and how to read them: RESULTS.md, section "Verifier".
//
//   BM_ScoreDocument/<scheme>/<dedup>  DocumentScorer::score on one 500-token pre-tokenized document (496 scored
//                                      tuples): the per-core scoring rate, tokenization excluded (items = tokens)
//   BM_SeedPositions/<lanes>/<h>       the seeds of one such document's 496 positions (left-hash, h ids of context)
//                                      through SipLanes <lanes> (0 libsodium, 1 AVX2, 2 AVX-512) (items = seeds)
//   BM_ScanIds/<threads>               CorpusScanner over an in-memory .ids corpus (2000 documents of 500 ids, KGW,
//                                      dedup across the corpus included: hashing, sorting, merging) (items = tokens)
//   BM_ScanText/<threads>              end to end: CorpusScanner over Austen's novels (4 MB of UTF-8 text, documents of
//                                      at most 2000 bytes) with SentencePiece tokenization (bytes/s = input bytes)
#include <benchmark/benchmark.h>

#include <array>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "prf/siphash_lanes.hpp"
#include "score/corpus_scanner.hpp"
#include "score/document_scorer.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"

namespace {

using namespace telltale;

KeyRing bench_key() {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
  return std::move(KeyRing::from_secret(secret)).value();
}

std::vector<int32_t> random_ids(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> id(0, 511);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = id(rng);
  return v;
}

void BM_ScoreDocument(benchmark::State& state) {
  const auto scheme = static_cast<SchemeKind>(state.range(0));
  const KeyRing keys = bench_key();
  auto det = Detector::create(keys, default_params(scheme, 512));
  score::ScoringRules rules;
  rules.dedup = state.range(1) != 0;
  auto scorer = score::DocumentScorer::create(*det, rules);
  std::vector<std::vector<int32_t>> docs;
  for (uint64_t i = 0; i < 64; ++i) docs.push_back(random_ids(500, i));
  score::DocumentScore out;
  size_t i = 0;
  for (auto _ : state) {
    scorer->score(docs[i++ % docs.size()], 0, out);
    benchmark::DoNotOptimize(out.tally.scored);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 500);
}
BENCHMARK(BM_ScoreDocument)->ArgNames({"scheme", "dedup"})->Args({0, 1})->Args({0, 0})->Args({1, 1})->Args({2, 1});

void BM_SeedPositions(benchmark::State& state) {
  const auto lanes = static_cast<detail::SipLanes>(state.range(0));
  if (!detail::sip_lanes_supported(lanes)) {
    state.SkipWithError("this CPU lacks these lanes");
    return;
  }
  const auto h = static_cast<size_t>(state.range(1));
  uint8_t key[kSeederKeyBytes];
  for (size_t i = 0; i < sizeof key; ++i) key[i] = static_cast<uint8_t>(i * 13 + 5);
  const std::vector<int32_t> doc = random_ids(500, 7);
  std::vector<StepSeed> seeds(doc.size() - h);
  for (auto _ : state) {
    detail::siphash_runs(lanes, key, 'L', doc.data(), h, seeds.size(), seeds.data());
    benchmark::DoNotOptimize(seeds.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * seeds.size()));
}
BENCHMARK(BM_SeedPositions)->ArgNames({"lanes", "h"})->ArgsProduct({{0, 1, 2}, {4, 16}});

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void scan(benchmark::State& state, const std::string& name, const std::string& bytes, input::InputFormat format,
          const input::InputOptions& in, const input::Tokenizer* tokenizer) {
  const KeyRing keys = bench_key();
  auto det = Detector::create(keys, default_params(SchemeKind::kKgw, 512));
  const Detector* dets[] = {&*det};
  score::ScanOptions options;
  options.threads = static_cast<unsigned>(state.range(0));
  auto scanner = score::CorpusScanner::create(tokenizer, dets, {}, options);
  uint64_t tokens = 0;
  for (auto _ : state) {
    auto source = input::DocumentSource::from_memory(name, bytes, format, in);
    std::vector<score::PartialResult> results;
    results.emplace_back(score::analysis_info(*det, "bench", {}, ""));
    uint64_t n = 0;
    auto status = scanner->run(
        *source, results, [&n](const input::Document&, std::span<const score::DocumentScore> s) { n += s[0].tokens; });
    if (!status.is_ok()) state.SkipWithError(status.message().c_str());
    const auto summary = results[0].summarize();
    benchmark::DoNotOptimize(summary.pooled.log_p);
    tokens = n;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * tokens));
  state.counters["tokens"] = static_cast<double>(tokens);
}

void BM_ScanIds(benchmark::State& state) {
  std::string corpus;
  for (uint64_t d = 0; d < 2000; ++d) {
    for (int32_t id : random_ids(500, 1000 + d)) corpus += std::to_string(id) + ' ';
    corpus += '\n';
  }
  scan(state, "bench.ids", corpus, input::InputFormat::kIds, {}, nullptr);
}
BENCHMARK(BM_ScanIds)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ScanText(benchmark::State& state) {
  static const std::string text = read_file(TELLTALE_SHARED_DIR "/corpora/austen_6novels.txt");
  static auto tokenizer = input::Tokenizer::load(TELLTALE_SHARED_DIR "/models/stories260K/tok512.model");
  if (!tokenizer || text.empty()) {
    state.SkipWithError("the shared corpus or tokenizer is missing");
    return;
  }
  input::InputOptions in;
  in.max_document_bytes = 2000;
  scan(state, "austen.txt", text, input::InputFormat::kText, in, &*tokenizer);
}
BENCHMARK(BM_ScanText)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
