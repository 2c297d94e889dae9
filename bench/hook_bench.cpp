// Benchmarks of the sampler hook. One iteration is ONE decode step for all B rows of the batch; the per-row time is
// the "per_row" counter (seconds per row, from CPU time) or real_time / B. Results and how to read them: RESULTS.md.
//
// Families (args V = vocabulary size, B = rows in the batch):
//   BM_Floor                 the memory floor: one read-modify-write pass x[i] = x[i] + c over the same B x V logits
//   BM_HookFull              Hook::bias, KGW left-hash h=4, gamma 1/4 (2 bits/id), delta 2, every id (top_k = 0)
//   BM_HookFull_Gamma50      the same at gamma 1/2 (1 bit/id)
//   BM_HookFull_SelfHash     the same as BM_HookFull with self-hash seeding (a SipHash per id: Hugging Face's
//                            "selfhash" comparison); BM_HookPruned_SelfHash likewise for the candidate path
//   BM_HookPruned            Hook::bias_candidates on each row's llama.cpp-style candidate array (ids whose logit is
//                            >= the 50th largest - delta), CandidateBound{50, excluded_max}: the exactness check runs
//   BM_HookPrunedDense       Hook::bias with BiasOptions{50}: the hook scans the dense row for the threshold itself
//   BM_ChooseGumbel          Hook::choose (Gumbel-max) on rows where the server already applied top-k = 50 (others
//                            -inf): the typical case
//   BM_ChooseTournament      Hook::choose (SynthID tournament, 30 layers) on the same top-50 rows
//   BM_ChooseGumbelFullVocab / BM_ChooseTournamentFullVocab: the same on rows with every id finite (the worst case)
//   BM_Keystream             the green mask alone: the AES-CTR keystream of one step at 2 bits/id, in 4 KiB chunks
//   BM_DetectorScore         Detector::score_sequence on a 512-token document (tokens/s: items_per_second)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/prf.hpp"
#include "telltale/scheme.hpp"

namespace {

using telltale::CandidateBound;
using telltale::CandidatesView;
using telltale::Hook;
using telltale::LogitsView;
using telltale::SchemeKind;
using telltale::SeqState;

constexpr int64_t kVocabs[] = {32000, 128256, 151936, 262144};
constexpr int64_t kBatches[] = {1, 64};
constexpr size_t kMaxRows = 64;      // the largest B: every family reads the first B of these rows
constexpr uint32_t kTopK = 50;       // the server's top-k
constexpr float kDelta = 2.0f;       // KGW's default delta (telltale::KgwParams)
constexpr uint32_t kLayers = 30;     // SynthID's default tournament depth
constexpr size_t kPromptTokens = 8;  // fed to every sequence so that its h = 4 window is full

// llama.cpp's llama_token_data: the hook reads the array in place through CandidatesView's byte strides.
struct TokenData {
  int32_t id;
  float logit;
  float p;
};

[[noreturn]] void die(const char* what, const telltale::Status& s) {
  std::fprintf(stderr, "telltale-bench: %s: %s\n", what, s.message().c_str());
  std::abort();
}

template <typename T>
T must(telltale::Result<T> r, const char* what) {
  if (!r) die(what, r.status());
  return std::move(r).value();
}

const telltale::KeyRing& keyring() {
  static const telltale::KeyRing keys = [] {
    std::array<uint8_t, telltale::kMasterSecretBytes> secret{};
    for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(0xA5 ^ (7 * i));
    return must(telltale::KeyRing::from_secret(secret), "KeyRing::from_secret");
  }();
  return keys;
}

// ---- Synthetic logits ----
//
// Each row holds the log-probabilities of a Zipf-like distribution: the id of rank r (1-based) gets
// -1.1 * ln(r) - ln(Z) plus N(0, 0.05^2) noise, and ranks are placed at a random permutation of the ids (fixed seed,
// one permutation per row). Why not i.i.d. normal logits: what the pruned paths cost depends on how many ids lie
// within delta of the 50th largest logit. With N(0, s^2) logits and delta = 2 that is ~8% of the vocabulary (12k ids at
// V = 152k), while real LM logits have a long, thin tail above the bulk and put only a few hundred ids there. Here it
// is ~300 (1.1 * ln(r / 50) <= 2 => r <= 50 * e^(2/1.1) ~ 308) at every V, like a real model.
struct Corpus {
  int64_t vocab = 0;
  std::vector<float> logits;                       // kMaxRows x vocab, row stride vocab
  std::vector<std::vector<TokenData>> candidates;  // per row: logit >= 50th largest - delta, by logit descending
  std::vector<float> excluded_max;                 // per row: the largest logit not in the candidates
  std::vector<std::vector<int32_t>> top;           // per row: the ids of the top 50 (the server's top-k rows)
  size_t mean_candidates() const {
    size_t n = 0;
    for (const auto& c : candidates) n += c.size();
    return n / candidates.size();
  }
};

const Corpus& corpus(int64_t vocab) {
  static std::map<int64_t, std::unique_ptr<Corpus>> cache;
  auto& slot = cache[vocab];
  if (slot) return *slot;
  auto c = std::make_unique<Corpus>();
  const size_t v = static_cast<size_t>(vocab);
  c->vocab = vocab;
  c->logits.resize(kMaxRows * v);
  std::vector<double> rank_logit(v);
  double z = 0;
  for (size_t r = 0; r < v; ++r) z += std::exp(-1.1 * std::log(static_cast<double>(r + 1)));
  for (size_t r = 0; r < v; ++r) rank_logit[r] = -1.1 * std::log(static_cast<double>(r + 1)) - std::log(z);
  std::vector<int32_t> perm(v);
  std::vector<float> sorted(v);
  for (size_t row = 0; row < kMaxRows; ++row) {
    std::mt19937_64 rng(0x7e11'7a1eull * (row + 1) + static_cast<uint64_t>(vocab));
    std::normal_distribution<double> noise(0.0, 0.05);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    float* x = c->logits.data() + row * v;
    for (size_t r = 0; r < v; ++r) x[perm[r]] = static_cast<float>(rank_logit[r] + noise(rng));
    // The 50th largest, and the candidate list a server would hand to bias_candidates.
    std::copy(x, x + v, sorted.begin());
    std::nth_element(sorted.begin(), sorted.begin() + (kTopK - 1), sorted.end(), std::greater<float>());
    const float kth = sorted[kTopK - 1];
    const float floor = kth - kDelta;
    std::vector<TokenData> cand;
    float excluded = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < v; ++i) {
      if (x[i] >= floor) {
        cand.push_back({static_cast<int32_t>(i), x[i], 0.0f});
      } else {
        excluded = std::max(excluded, x[i]);
      }
    }
    std::sort(cand.begin(), cand.end(), [](const TokenData& a, const TokenData& b) {
      return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    });
    double total = 0;
    for (const auto& t : cand) total += std::exp(static_cast<double>(t.logit - cand[0].logit));
    for (auto& t : cand) t.p = static_cast<float>(std::exp(static_cast<double>(t.logit - cand[0].logit)) / total);
    std::vector<int32_t> top(kTopK);
    for (size_t i = 0; i < kTopK; ++i) top[i] = cand[i].id;
    c->candidates.push_back(std::move(cand));
    c->excluded_max.push_back(excluded);
    c->top.push_back(std::move(top));
  }
  slot = std::move(c);
  return *slot;
}

// The first B rows of the corpus, as a writable buffer. top_k_only: every id outside the row's top 50 is -inf (the
// server's final distribution after its own top-k).
std::vector<float> make_rows(const Corpus& c, size_t rows, bool top_k_only) {
  const size_t v = static_cast<size_t>(c.vocab);
  std::vector<float> out(c.logits.begin(), c.logits.begin() + static_cast<ptrdiff_t>(rows * v));
  if (top_k_only) {
    for (size_t r = 0; r < rows; ++r) {
      float* x = out.data() + r * v;
      std::fill(x, x + v, -std::numeric_limits<float>::infinity());
      for (int32_t id : c.top[r]) x[id] = c.logits[r * v + static_cast<size_t>(id)];
    }
  }
  return out;
}

Hook make_hook(SchemeKind scheme, int64_t vocab, double gamma = 0.25, bool self_hash = false) {
  telltale::SchemeParams p = telltale::default_params(scheme, static_cast<uint32_t>(vocab));
  p.context_width = 4;
  p.self_hash = self_hash;
  p.kgw.gamma = gamma;
  p.kgw.delta = kDelta;
  p.tournament.layers = kLayers;
  return must(Hook::create(keyring(), p), "Hook::create");
}

// Sequence states, each fed kPromptTokens random prompt tokens so that its h = 4 window is full. accept() is never
// called in a timed loop. But repeating the very same step (same context, so the same keystream bits) would let the
// branch predictor learn the green pattern of a small step: with the scalar loop that branches on the keystream bit,
// V = 32000 at B = 1 ran 4x faster than at B = 64 because of that alone. So there are kMaxRows / B sets of B states
// with different contexts (64 distinct contexts in every case) and step i uses set i mod (kMaxRows / B): as in real
// decoding, no two consecutive steps of a row share their keyed bits.
struct Batch {
  size_t rows = 0;
  size_t sets = 0;
  std::vector<SeqState> states;
  std::vector<SeqState*> ptrs;
  size_t next = 0;
  // The states of the next step's rows.
  std::span<SeqState* const> step() {
    const size_t k = next;
    next = next + 1 == sets ? 0 : next + 1;
    return {ptrs.data() + k * rows, rows};
  }
};

Batch make_batch(const Hook& hook, size_t rows, int64_t vocab) {
  Batch b;
  b.rows = rows;
  b.sets = std::max<size_t>(1, kMaxRows / rows);
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(vocab - 1));
  for (size_t r = 0; r < rows * b.sets; ++r) {
    SeqState s = must(hook.new_sequence(/*account=*/0, /*rng_seed=*/r + 1), "Hook::new_sequence");
    for (size_t i = 0; i < kPromptTokens; ++i) s.accept(token(rng));
    b.states.push_back(std::move(s));
  }
  for (auto& s : b.states) b.ptrs.push_back(&s);
  return b;
}

void set_per_row(benchmark::State& state, size_t rows) {
  // Seconds per row: B rows per iteration, inverted rate. (Rates use CPU time; the table in RESULTS.md uses real time.)
  state.counters["per_row"] = benchmark::Counter(
      static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

size_t arg_v(const benchmark::State& state) { return static_cast<size_t>(state.range(0)); }
size_t arg_b(const benchmark::State& state) { return static_cast<size_t>(state.range(1)); }

// ---- The memory floor ----

void BM_Floor(benchmark::State& state) {
  const size_t v = arg_v(state), rows = arg_b(state);
  std::vector<float> x = make_rows(corpus(state.range(0)), rows, false);
  float* p = x.data();
  const size_t n = rows * v;
  float c = 0x1p-10f;  // alternates in sign, so the values stay where they are
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    for (size_t i = 0; i < n; ++i) p[i] = p[i] + c;
    benchmark::ClobberMemory();
    c = -c;
  }
  set_per_row(state, rows);
}

// ---- KGW bias over the whole vocabulary ----

void hook_full(benchmark::State& state, double gamma, bool self_hash) {
  const int64_t vocab = state.range(0);
  const size_t v = arg_v(state), rows = arg_b(state);
  const Corpus& c = corpus(vocab);
  const Hook hook = make_hook(SchemeKind::kKgw, vocab, gamma, self_hash);
  Batch batch = make_batch(hook, rows, vocab);
  std::vector<float> x = make_rows(c, rows, false);
  const LogitsView view{x.data(), static_cast<int64_t>(rows), vocab, vocab};
  // Green logits grow by delta on every call; the cost does not depend on the values (the select is on keystream
  // bits), but the rows are put back now and then, outside the timing, so that they stay ordinary numbers.
  int64_t since_reset = 0;
  for (auto _ : state) {
    if (++since_reset == 4096) {
      state.PauseTiming();
      std::copy(c.logits.begin(), c.logits.begin() + static_cast<ptrdiff_t>(rows * v), x.begin());
      since_reset = 0;
      state.ResumeTiming();
    }
    const telltale::Status st = hook.bias(batch.step(), view);
    if (!st.is_ok()) {
      state.SkipWithError(st.message().c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  set_per_row(state, rows);
}

void BM_HookFull(benchmark::State& state) { hook_full(state, 0.25, false); }
void BM_HookFull_Gamma50(benchmark::State& state) { hook_full(state, 0.5, false); }
// Self-hash seeding (a SipHash per candidate id): for the comparison with Hugging Face's self-hash processor.
void BM_HookFull_SelfHash(benchmark::State& state) { hook_full(state, 0.25, true); }

// ---- KGW bias of the server's top-50 candidates ----

// bias_candidates on a llama.cpp-style candidate array per row. The arrays drift (green logits +delta per call), which
// would slowly change the work of the top-k check inside the hook (its heap sees more replacements once green ids
// overtake red ones), so every call gets a pristine array: a pool of copies is consumed one step at a time and
// refilled outside the timing once it is used up. The pool (~64 rows of ~300 entries, ~230 KiB) stays in L2.
void hook_pruned(benchmark::State& state, bool self_hash) {
  const int64_t vocab = state.range(0);
  const size_t rows = arg_b(state);
  const Corpus& c = corpus(vocab);
  const Hook hook = make_hook(SchemeKind::kKgw, vocab, 0.25, self_hash);
  Batch batch = make_batch(hook, rows, vocab);
  const size_t copies = std::max<size_t>(1, kMaxRows / rows);  // steps per refill
  std::vector<std::vector<TokenData>> pool(copies * rows);
  std::vector<CandidatesView> views(copies * rows);
  std::vector<CandidateBound> bounds(rows);
  auto refill = [&] {
    for (size_t k = 0; k < copies; ++k) {
      for (size_t r = 0; r < rows; ++r) {
        std::copy(c.candidates[r].begin(), c.candidates[r].end(), pool[k * rows + r].begin());
      }
    }
  };
  for (size_t k = 0; k < copies; ++k) {
    for (size_t r = 0; r < rows; ++r) {
      auto& arr = pool[k * rows + r];
      arr = c.candidates[r];
      views[k * rows + r] = CandidatesView{&arr[0].id, &arr[0].logit, arr.size(), sizeof(TokenData), sizeof(TokenData)};
    }
  }
  for (size_t r = 0; r < rows; ++r) bounds[r] = CandidateBound{kTopK, c.excluded_max[r]};
  size_t step = 0;
  for (auto _ : state) {
    if (step == copies) {
      state.PauseTiming();
      refill();
      step = 0;
      state.ResumeTiming();
    }
    const CandidatesView* v = views.data() + step * rows;
    const std::span<SeqState* const> seqs = batch.step();
    bool ok = true;
    for (size_t r = 0; r < rows; ++r) ok &= hook.bias_candidates(*seqs[r], v[r], bounds[r]).is_ok();
    if (!ok) {
      state.SkipWithError("bias_candidates failed (kIncomplete: the exactness check refused the list?)");
      break;
    }
    benchmark::ClobberMemory();
    ++step;
  }
  set_per_row(state, rows);
  state.counters["candidates"] = static_cast<double>(c.mean_candidates());
}

void BM_HookPruned(benchmark::State& state) { hook_pruned(state, false); }
void BM_HookPruned_SelfHash(benchmark::State& state) { hook_pruned(state, true); }

// The dense pruned bias: the hook finds the 50th largest itself (a heap over the row), then keys only the survivors.
// Only the survivors change, so exactly those entries (a superset: logit >= 50th - delta - 1) are put back after each
// step, outside the timing.
void BM_HookPrunedDense(benchmark::State& state) {
  const int64_t vocab = state.range(0);
  const size_t v = arg_v(state), rows = arg_b(state);
  const Corpus& c = corpus(vocab);
  const Hook hook = make_hook(SchemeKind::kKgw, vocab, 0.25);
  Batch batch = make_batch(hook, rows, vocab);
  std::vector<float> x = make_rows(c, rows, false);
  std::vector<size_t> touched;  // flat indices into x
  for (size_t r = 0; r < rows; ++r) {
    const float kth = c.candidates[r][kTopK - 1].logit;
    const float* px = c.logits.data() + r * v;
    for (size_t i = 0; i < v; ++i) {
      if (px[i] >= kth - kDelta - 1.0f) touched.push_back(r * v + i);
    }
  }
  const LogitsView view{x.data(), static_cast<int64_t>(rows), vocab, vocab};
  const telltale::BiasOptions options{kTopK};
  for (auto _ : state) {
    const telltale::Status st = hook.bias(batch.step(), view, options);
    if (!st.is_ok()) {
      state.SkipWithError(st.message().c_str());
      break;
    }
    benchmark::ClobberMemory();
    state.PauseTiming();
    for (size_t i : touched) x[i] = c.logits[i];
    state.ResumeTiming();
  }
  set_per_row(state, rows);
}

// ---- choose: the distortion-free schemes make the draw ----

void choose(benchmark::State& state, SchemeKind scheme, bool top_k_only) {
  const int64_t vocab = state.range(0);
  const size_t rows = arg_b(state);
  const Corpus& c = corpus(vocab);
  const Hook hook = make_hook(scheme, vocab);
  Batch batch = make_batch(hook, rows, vocab);
  // Gumbel and the tournament only read the logits: no restore is needed.
  std::vector<float> x = make_rows(c, rows, top_k_only);
  const LogitsView view{x.data(), static_cast<int64_t>(rows), vocab, vocab};
  std::vector<float> uniforms(rows);
  std::mt19937 rng(99);
  for (auto& u : uniforms) u = std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
  std::vector<int32_t> out(rows);
  for (auto _ : state) {
    const telltale::Status st = hook.choose(batch.step(), view, uniforms.data(), out.data());
    if (!st.is_ok()) {
      state.SkipWithError(st.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_per_row(state, rows);
}

void BM_ChooseGumbel(benchmark::State& state) { choose(state, SchemeKind::kGumbel, true); }
void BM_ChooseTournament(benchmark::State& state) { choose(state, SchemeKind::kTournament, true); }
void BM_ChooseGumbelFullVocab(benchmark::State& state) { choose(state, SchemeKind::kGumbel, false); }
void BM_ChooseTournamentFullVocab(benchmark::State& state) { choose(state, SchemeKind::kTournament, false); }

// ---- context rows ----

// The mask alone: the AES-128-CTR keystream of one step at 2 bits/id (gamma 1/4), V / 64 blocks, in the same 4 KiB
// chunks the full bias uses. A different step seed per row.
void BM_Keystream(benchmark::State& state) {
  const size_t v = arg_v(state), rows = arg_b(state);
  std::array<uint8_t, telltale::kKeystreamKeyBytes> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(3 * i + 1);
  telltale::Keystream ks = must(telltale::Keystream::create(key), "Keystream::create");
  std::vector<telltale::StepSeed> seeds(rows);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < 12; ++i) seeds[r].nonce[i] = static_cast<uint8_t>(r * 31 + i * 7);
  }
  constexpr uint32_t kChunk = 256;
  std::vector<uint8_t> buf(kChunk * 16);
  const uint32_t total = static_cast<uint32_t>((v * 2 + 127) / 128);
  for (auto _ : state) {
    for (size_t r = 0; r < rows; ++r) {
      for (uint32_t b0 = 0; b0 < total; b0 += kChunk) {
        ks.blocks(seeds[r], b0, std::min(kChunk, total - b0), buf.data());
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
      }
    }
  }
  set_per_row(state, rows);
}

// The detection side's fast path: score every token of a 512-token document (508 scored, h = 4), KGW gamma 1/4.
void BM_DetectorScore(benchmark::State& state) {
  const int64_t vocab = state.range(0);
  telltale::Detector det = must(
      telltale::Detector::create(keyring(), telltale::default_params(SchemeKind::kKgw, static_cast<uint32_t>(vocab))),
      "Detector::create");
  std::vector<int32_t> tokens(512);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(vocab - 1));
  for (auto& t : tokens) t = token(rng);
  const size_t first = det.window_size();
  std::vector<double> out(tokens.size() - first);
  for (auto _ : state) {
    if (!det.score_sequence(tokens, first, out)) state.SkipWithError("score_sequence refused its arguments");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}

// With --benchmark_repetitions, report the fastest repetition too: noise on a shared VM only ever adds time.
double min_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }

void vocab_batch_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"V", "B"});
  for (int64_t v : kVocabs) {
    for (int64_t rows : kBatches) b->Args({v, rows});
  }
  b->Unit(benchmark::kMicrosecond);
  b->ComputeStatistics("min", min_of);
}

}  // namespace

BENCHMARK(BM_Floor)->Apply(vocab_batch_args);
BENCHMARK(BM_HookFull)->Apply(vocab_batch_args);
BENCHMARK(BM_HookFull_Gamma50)->Apply(vocab_batch_args);
BENCHMARK(BM_HookPruned)->Apply(vocab_batch_args);
BENCHMARK(BM_HookPrunedDense)->Apply(vocab_batch_args);
BENCHMARK(BM_HookFull_SelfHash)->Apply(vocab_batch_args);
BENCHMARK(BM_HookPruned_SelfHash)->Apply(vocab_batch_args);
BENCHMARK(BM_ChooseGumbel)->Apply(vocab_batch_args);
BENCHMARK(BM_ChooseTournament)->Apply(vocab_batch_args);
BENCHMARK(BM_ChooseGumbelFullVocab)->Apply(vocab_batch_args);
BENCHMARK(BM_ChooseTournamentFullVocab)->Apply(vocab_batch_args);
BENCHMARK(BM_Keystream)->Apply(vocab_batch_args);
BENCHMARK(BM_DetectorScore)->ArgName("V")->Arg(151936)->Unit(benchmark::kMicrosecond)->ComputeStatistics("min", min_of);
