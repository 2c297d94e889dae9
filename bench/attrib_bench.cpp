// Benchmarks of account attribution (verify/attrib) against plain zero-bit detection on the same tokens. Results:
// RESULTS.md, section "Account attribution". One run measures both, so their ratio is read from one machine state.
//
//   BM_ZeroBitDetect     DocumentScorer (KGW layer, de-dup per document) over 10 million ids in documents of 1000,
//   tuples
//                        de-duplicated across the corpus in a ContextSet, then the exact p-value (items = tokens)
//   BM_AccountDecode     the same 10 million ids through AttributionScan::pool_document (account marks, context de-dup
//                        per document and across the corpus, per-position evidence) and finish() (all 25,000 registry
//                        accounts ranked with exact p-values and Holm) (items = tokens)
//   BM_DocumentAttribute/<n>  one n-token document tested against all 25,000 accounts (items = documents)
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <set>
#include <vector>

#include "attrib/account_registry.hpp"
#include "attrib/attribution.hpp"
#include "attrib/attribution_scan.hpp"
#include "attrib/context_set.hpp"
#include "bench_support.hpp"
#include "score/document_scorer.hpp"
#include "score/tally.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"

namespace {

using namespace telltale;

constexpr size_t kTokens = 10'000'000;
constexpr size_t kDocTokens = 1000;
constexpr size_t kAccounts = 25'000;

// The fingerprint scheme's detector at the reference vocabulary, for a fixed key.
const Detector& detector() {
  static const KeyRing keys = [] {
    std::array<uint8_t, kMasterSecretBytes> secret{};
    for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
    return std::move(KeyRing::from_secret(secret)).value();
  }();
  static const Detector det = std::move(Detector::create(keys, default_params(SchemeKind::kFingerprint, 512))).value();
  return det;
}

const std::vector<int32_t>& corpus() {
  static const std::vector<int32_t> ids = [] {
    std::mt19937_64 rng(1);
    std::vector<int32_t> v(kTokens);
    for (auto& x : v) x = static_cast<int32_t>(rng() % 512);
    return v;
  }();
  return ids;
}

const attrib::AccountRegistry& registry() {
  static const attrib::AccountRegistry r = [] {
    const std::vector<uint32_t> ids = bench::distinct_random_ids(kAccounts, 2);
    return std::move(attrib::AccountRegistry::from_ids(ids)).value();
  }();
  return r;
}

void BM_ZeroBitDetect(benchmark::State& state) {
  const Detector& det = detector();
  auto scorer = score::DocumentScorer::create(det, {});
  const auto& ids = corpus();
  score::DocumentScore out;
  for (auto _ : state) {
    // Corpus-wide de-dup with the same set the account decode uses, so that both sides do the same bookkeeping.
    attrib::ContextSet corpus_seen;
    score::Tally total;
    for (size_t d = 0; d < kTokens; d += kDocTokens) {
      scorer->score({ids.data() + d, kDocTokens}, 0, out);
      for (const auto& e : out.entries) {
        if (corpus_seen.insert(e.hash)) total.add(e.score);
      }
    }
    const auto evidence = score::evaluate(total, det.null_model());
    benchmark::DoNotOptimize(evidence.log_p);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTokens));
}
BENCHMARK(BM_ZeroBitDetect)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AccountDecode(benchmark::State& state) {
  const Detector& det = detector();
  const auto& reg = registry();
  const auto& ids = corpus();
  for (auto _ : state) {
    auto scan = attrib::AttributionScan::create(det, reg, {1e-3, 3});
    for (size_t d = 0; d < kTokens; d += kDocTokens) scan->pool_document({ids.data() + d, kDocTokens}, 0);
    const auto result = scan->finish();
    benchmark::DoNotOptimize(result.pooled.ranked.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTokens));
}
BENCHMARK(BM_AccountDecode)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DocumentAttribute(benchmark::State& state) {
  const Detector& det = detector();
  const auto& reg = registry();
  auto scan = attrib::AttributionScan::create(det, reg, {1e-3, 3});
  const auto n = static_cast<size_t>(state.range(0));
  const auto& ids = corpus();
  size_t offset = 0;
  for (auto _ : state) {
    const auto& r = scan->add_document({ids.data() + offset, n}, 0, "");
    benchmark::DoNotOptimize(r.result.scored);
    offset = (offset + n) % (kTokens - n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DocumentAttribute)->Arg(100)->Arg(200)->Arg(400)->Unit(benchmark::kMicrosecond);

}  // namespace
