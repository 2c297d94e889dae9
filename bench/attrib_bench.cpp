// Benchmarks of account attribution (verify/attrib) against plain zero-bit detection on the same tokens. Results:
// RESULTS.md, section "Account attribution". One run measures both, so their ratio is read from one machine state.
//
//   BM_ZeroBitDetect     DocumentScorer (KGW layer, de-dup) over 10 million ids in documents of 1000 (items = tokens)
//   BM_AccountDecode     the same 10 million ids: account marks, per-document context de-dup, per-position evidence,
//                        then ranking all 25,000 registry accounts with exact p-values (items = tokens)
//   BM_DocumentAttribute/<n>  one n-token document tested against all 25,000 accounts (items = documents)
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <set>
#include <vector>

#include "attrib/account_evidence.hpp"
#include "attrib/account_registry.hpp"
#include "attrib/attribution.hpp"
#include "attrib/attribution_scan.hpp"
#include "score/document_scorer.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"

namespace {

using namespace telltale;

constexpr size_t kTokens = 10'000'000;
constexpr size_t kDocTokens = 1000;
constexpr size_t kAccounts = 25'000;

KeyRing bench_key() {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
  return std::move(KeyRing::from_secret(secret)).value();
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
    std::mt19937_64 rng(2);
    std::set<uint32_t> seen;
    std::vector<uint32_t> ids;
    while (ids.size() < kAccounts) {
      const auto id = static_cast<uint32_t>(rng());
      if (seen.insert(id).second) ids.push_back(id);
    }
    return std::move(attrib::AccountRegistry::from_ids(ids)).value();
  }();
  return r;
}

void BM_ZeroBitDetect(benchmark::State& state) {
  const KeyRing keys = bench_key();
  auto det = Detector::create(keys, default_params(SchemeKind::kFingerprint, 512));
  auto scorer = score::DocumentScorer::create(*det, {});
  const auto& ids = corpus();
  score::DocumentScore out;
  for (auto _ : state) {
    uint64_t scored = 0;
    for (size_t d = 0; d < kTokens; d += kDocTokens) {
      scorer->score({ids.data() + d, kDocTokens}, 0, out);
      scored += out.tally.scored;
    }
    benchmark::DoNotOptimize(scored);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTokens));
}
BENCHMARK(BM_ZeroBitDetect)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AccountDecode(benchmark::State& state) {
  const KeyRing keys = bench_key();
  auto det = Detector::create(keys, default_params(SchemeKind::kFingerprint, 512));
  const auto& reg = registry();
  const auto& ids = corpus();
  const size_t w = det->window_size();
  std::vector<uint32_t> marks(kDocTokens);
  score::TupleSet seen;
  attrib::AccountEvidence evidence;
  const double theta = attrib::null_match_bound(2.0);
  for (auto _ : state) {
    evidence.clear();
    for (size_t d = 0; d < kTokens; d += kDocTokens) {
      const std::span<const int32_t> doc(ids.data() + d, kDocTokens);
      (void)det->account_marks(doc, w, marks);
      seen.reset(kDocTokens);
      for (size_t i = w; i < kDocTokens; ++i) {
        const auto window = doc.subspan(i - w, w);
        if (!seen.insert(score::tuple_hash(window.first(w - 1), window.back()))) continue;
        evidence.add(marks[i - w]);
      }
    }
    const auto result = attrib::attribute(evidence, reg, theta, {1e-3, 3});
    benchmark::DoNotOptimize(result.ranked.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kTokens));
}
BENCHMARK(BM_AccountDecode)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DocumentAttribute(benchmark::State& state) {
  const KeyRing keys = bench_key();
  auto det = Detector::create(keys, default_params(SchemeKind::kFingerprint, 512));
  const auto& reg = registry();
  auto scan = attrib::AttributionScan::create(*det, reg, {1e-3, 3});
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
