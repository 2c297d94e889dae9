// The hook: pruned and full evaluation agree bit for bit, sequence state rules, batching and bad arguments.
#include <boost/math/distributions/binomial.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "hook/row_scan.hpp"
#include "telltale/telltale.hpp"

using namespace telltale;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// What the server does after the hook: keep the top k (ties broken towards the lower id), the rest to -inf.
void server_top_k(std::vector<float>& row, uint32_t k) {
  std::vector<uint32_t> idx(row.size());
  for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return row[a] > row[b]; });
  std::vector<float> out(row.size(), kNegInf);
  for (uint32_t i = 0; i < k && i < idx.size(); ++i) out[idx[i]] = row[idx[i]];
  row = out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

KeyRing test_ring(uint8_t fill) {
  std::vector<uint8_t> s(32, fill);
  auto r = KeyRing::from_secret(s);
  REQUIRE(r);
  return std::move(r).value();
}

std::vector<float> random_logits(std::mt19937_64& rng, uint32_t n) {
  std::vector<float> row(n);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::uniform_int_distribution<int> kind(0, 19);
  for (auto& x : row) {
    const int k = kind(rng);
    if (k == 0) {
      x = kNegInf;
    } else if (k == 1) {
      x = -0.0f;
    } else if (k == 2) {
      x = 1.0f;  // ties
    } else {
      x = std::round(normal(rng) * 8.0f) / 8.0f;  // coarse values make ties at the pruning threshold likely
    }
  }
  return row;
}

// A hook and one new sequence of it.
std::pair<Hook, SeqState> hook_and_sequence(const KeyRing& ring, const SchemeParams& params) {
  auto hook = Hook::create(ring, params);
  REQUIRE(hook);
  auto seq = hook->new_sequence();
  REQUIRE(seq);
  return {std::move(hook).value(), std::move(seq).value()};
}

}  // namespace

TEST_CASE("pruned and full KGW bias give bit-identical rows after the server's top-k, thousands of cases",
          "[hook][prune]") {
  std::mt19937_64 rng(20261122);
  const KeyRing ring = test_ring(7);
  size_t cases = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const uint32_t vocab = std::uniform_int_distribution<uint32_t>(20, 2500)(rng);
    SchemeParams p = default_params(SchemeKind::kKgw, vocab);
    const double gammas[] = {0.5, 0.25, 0.125, 0.3, 0.1};
    p.kgw.gamma = gammas[trial % 5];
    p.kgw.delta = std::uniform_real_distribution<float>(0.0f, 6.0f)(rng);
    if (trial % 7 == 0) p.kgw.delta = 2.0f;
    p.context_width = std::uniform_int_distribution<uint32_t>(1, 6)(rng);
    p.self_hash = trial % 3 == 0;
    auto [hook, seq] = hook_and_sequence(ring, p);
    for (uint32_t i = 0; i < p.context_width; ++i)
      seq.accept(std::uniform_int_distribution<int32_t>(0, vocab - 1)(rng));
    const uint32_t k = std::uniform_int_distribution<uint32_t>(1, std::min<uint32_t>(vocab - 1, 200))(rng);
    const std::vector<float> original = random_logits(rng, vocab);
    SeqState* rows[] = {&seq};

    std::vector<float> full = original;
    REQUIRE(hook.bias(rows, LogitsView{full.data(), 1, vocab, vocab}));
    std::vector<float> pruned = original;
    REQUIRE(hook.bias(rows, LogitsView{pruned.data(), 1, vocab, vocab}, BiasOptions{k}));

    // Candidates: every id within delta of the k-th largest, plus some random extras, in a shuffled order.
    std::vector<float> sorted = original;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    const float floor = sorted[k - 1] - p.kgw.delta;
    std::vector<int32_t> ids;
    std::vector<float> vals;
    float excluded_max = kNegInf;
    for (uint32_t i = 0; i < vocab; ++i) {
      if (original[i] >= floor || (rng() % 10 == 0)) {
        ids.push_back(static_cast<int32_t>(i));
      } else {
        excluded_max = std::max(excluded_max, original[i]);
      }
    }
    std::shuffle(ids.begin(), ids.end(), rng);
    for (int32_t id : ids) vals.push_back(original[id]);
    CandidatesView cand{ids.data(), vals.data(), ids.size()};
    const Status cs = hook.bias_candidates(seq, cand, CandidateBound{k, excluded_max});
    std::vector<float> from_candidates(vocab, kNegInf);
    if (cs.is_ok()) {
      for (size_t i = 0; i < ids.size(); ++i) from_candidates[ids[i]] = vals[i];
    } else {
      // Only when an excluded id could tie into the top k; the dense path is then the answer.
      REQUIRE(cs.code() == StatusCode::kIncomplete);
      from_candidates = full;
    }

    server_top_k(full, k);
    server_top_k(pruned, k);
    server_top_k(from_candidates, k);
    INFO("trial " << trial << " vocab " << vocab << " k " << k << " gamma " << p.kgw.gamma);
    REQUIRE(same_bits(full, pruned));
    REQUIRE(same_bits(full, from_candidates));
    ++cases;
  }
  CHECK(cases == 3000);
}

TEST_CASE("pruned and full Gumbel choices are identical; tournament candidates equal the dense row", "[hook][prune]") {
  std::mt19937_64 rng(77);
  const KeyRing ring = test_ring(9);
  for (int trial = 0; trial < 2000; ++trial) {
    const uint32_t vocab = std::uniform_int_distribution<uint32_t>(10, 3000)(rng);
    const SchemeKind kind = trial % 2 == 0 ? SchemeKind::kGumbel : SchemeKind::kTournament;
    SchemeParams p = default_params(kind, vocab);
    p.skip_repeated_contexts = false;
    p.self_hash = trial % 4 == 1;
    auto [hook, seq] = hook_and_sequence(ring, p);
    for (int i = 0; i < 4; ++i) seq.accept(std::uniform_int_distribution<int32_t>(0, vocab - 1)(rng));
    std::vector<float> row = random_logits(rng, vocab);
    // The server's final distribution: its top-k, the rest -inf.
    server_top_k(row, std::uniform_int_distribution<uint32_t>(1, vocab)(rng));
    std::vector<int32_t> ids;
    std::vector<float> vals;
    for (uint32_t i = 0; i < vocab; ++i) {
      if (row[i] != kNegInf) ids.push_back(static_cast<int32_t>(i));
    }
    if (ids.empty()) continue;
    for (int32_t id : ids) vals.push_back(row[id]);
    const float u = std::uniform_real_distribution<float>(0.0f, 0.999f)(rng);
    SeqState* rows[] = {&seq};
    int32_t dense_token = -1;
    std::vector<float> dense = row;
    REQUIRE(hook.choose(rows, LogitsView{dense.data(), 1, vocab, vocab}, &u, &dense_token));
    size_t index = 0;
    CandidatesView cand{ids.data(), vals.data(), ids.size()};
    if (kind == SchemeKind::kGumbel) std::shuffle(ids.begin(), ids.end(), rng), vals.clear();
    if (vals.empty()) {
      for (int32_t id : ids) vals.push_back(row[id]);
      cand = CandidatesView{ids.data(), vals.data(), ids.size()};
    }
    REQUIRE(hook.choose_candidates(seq, cand, u, &index));
    INFO("trial " << trial);
    REQUIRE(ids[index] == dense_token);
    if (kind == SchemeKind::kTournament) {
      std::vector<float> biased = row;
      REQUIRE(hook.bias(rows, LogitsView{biased.data(), 1, vocab, vocab}));
      REQUIRE(hook.bias_candidates(seq, cand));
      std::vector<float> from_candidates(vocab, kNegInf);
      for (size_t i = 0; i < ids.size(); ++i) from_candidates[ids[i]] = vals[i];
      REQUIRE(same_bits(biased, from_candidates));
    }
  }
}

TEST_CASE("the fraction of green ids over many contexts matches gamma within a binomial bound", "[hook][stats]") {
  const KeyRing ring = test_ring(3);
  for (double gamma : {0.5, 0.25, 0.1}) {
    SchemeParams p = default_params(SchemeKind::kKgw, 4096);
    p.kgw.gamma = gamma;
    auto det = Detector::create(ring, p);
    REQUIRE(det);
    std::mt19937 rng(11);
    uint64_t green = 0, total = 0;
    for (int c = 0; c < 300; ++c) {
      const std::vector<int32_t> w = {static_cast<int32_t>(rng() % 4096), static_cast<int32_t>(rng() % 4096),
                                      static_cast<int32_t>(rng() % 4096), c};
      for (int32_t id = 0; id < 4096; ++id) {
        green += det->score(w, id) > 0 ? 1 : 0;
        ++total;
      }
    }
    const double g = det->null_model().p;
    // A two-sided 1 - 1e-6 interval from the exact binomial quantiles.
    boost::math::binomial_distribution<double> null(static_cast<double>(total), g);
    const double lo = boost::math::quantile(null, 0.5e-6);
    const double hi = boost::math::quantile(boost::math::complement(null, 0.5e-6));
    INFO("gamma " << gamma << " effective " << g << " green " << green << " of " << total);
    CHECK(static_cast<double>(green) >= lo);
    CHECK(static_cast<double>(green) <= hi);
  }
}

TEST_CASE("gamma that is not a multiple of 1/2^k is read at 16 bits and reported exactly", "[hook]") {
  CHECK(kgw_layout(0.25).bits == 2);
  CHECK(kgw_layout(0.5).bits == 1);
  CHECK(kgw_layout(0.375).bits == 4);
  const KgwLayout l = kgw_layout(0.3);
  CHECK(l.bits == 16);
  CHECK(std::abs(l.effective_gamma() - 0.3) <= 0.5 / 65536);
}

TEST_CASE("bias leaves the row untouched until the context window is full", "[hook]") {
  const KeyRing ring = test_ring(1);
  auto [hook, seq] = hook_and_sequence(ring, default_params(SchemeKind::kKgw, 100));
  SeqState* rows[] = {&seq};
  std::vector<float> row(100, 0.5f), copy = row;
  for (int t = 0; t < 3; ++t) {
    REQUIRE(hook.bias(rows, LogitsView{row.data(), 1, 100, 100}));
    CHECK(same_bits(row, copy));
    seq.accept(t);
  }
  seq.accept(3);
  REQUIRE(hook.bias(rows, LogitsView{row.data(), 1, 100, 100}));
  CHECK_FALSE(same_bits(row, copy));
}

TEST_CASE("bias is a pure function of the state: calling it twice on one step gives the same row", "[hook]") {
  const KeyRing ring = test_ring(2);
  auto [hook, seq] = hook_and_sequence(ring, default_params(SchemeKind::kTournament, 300));
  for (int t : {5, 6, 7, 8}) seq.accept(t);
  SeqState* rows[] = {&seq};
  std::mt19937_64 rng(5);
  const std::vector<float> original = random_logits(rng, 300);
  std::vector<float> a = original, b = original;
  REQUIRE(hook.bias(rows, LogitsView{a.data(), 1, 300, 300}));
  REQUIRE(hook.bias(rows, LogitsView{b.data(), 1, 300, 300}));
  CHECK(same_bits(a, b));
}

TEST_CASE("a repeated context is left unwatermarked when the rule is on, and counted", "[hook]") {
  const KeyRing ring = test_ring(4);
  SchemeParams p = default_params(SchemeKind::kGumbel, 50);
  REQUIRE(p.skip_repeated_contexts);
  p.context_width = 2;
  auto hook = Hook::create(ring, p);
  REQUIRE(hook);
  auto seq = hook->new_sequence(0, 99);
  REQUIRE(seq);
  std::vector<float> row(50, 0.0f);
  SeqState* rows[] = {&seq.value()};
  // Context (1, 2) twice: the second time it must not be watermarked.
  for (int32_t t : {1, 2}) seq->accept(t);
  int32_t tok = -1;
  REQUIRE(hook->choose(rows, LogitsView{row.data(), 1, 50, 50}, nullptr, &tok));
  seq->accept(3);
  CHECK(seq->watermarked_steps() == 1);
  for (int32_t t : {1, 2}) seq->accept(t);
  REQUIRE(hook->choose(rows, LogitsView{row.data(), 1, 50, 50}, nullptr, &tok));
  seq->accept(tok);
  CHECK(seq->skipped_repeated() == 1);
  // Clone keeps the memory; reset clears it.
  auto copy = seq->clone();
  REQUIRE(copy);
  CHECK(copy->skipped_repeated() == 1);
  seq->reset();
  CHECK(seq->accepted() == 0);
  CHECK(seq->watermarked_steps() == 0);
}

TEST_CASE("rows are independent: a batch equals the rows run one at a time, and null rows are untouched", "[hook]") {
  const KeyRing ring = test_ring(5);
  const uint32_t vocab = 700;
  auto hook = Hook::create(ring, default_params(SchemeKind::kKgw, vocab));
  REQUIRE(hook);
  std::mt19937_64 rng(8);
  std::vector<SeqState> seqs;
  for (int r = 0; r < 5; ++r) {
    auto s = hook->new_sequence(static_cast<uint64_t>(r));
    REQUIRE(s);
    for (int t = 0; t < 4; ++t) s->accept(static_cast<int32_t>(rng() % vocab));
    seqs.push_back(std::move(s).value());
  }
  const int64_t stride = vocab + 13;  // padded rows
  std::vector<float> batch(5 * stride, 42.0f);
  for (int r = 0; r < 5; ++r) {
    const auto row = random_logits(rng, vocab);
    std::copy(row.begin(), row.end(), batch.begin() + r * stride);
  }
  const std::vector<float> original = batch;
  std::vector<SeqState*> rows = {&seqs[0], &seqs[1], nullptr, &seqs[3], &seqs[4]};
  REQUIRE(hook->bias(rows, LogitsView{batch.data(), 5, vocab, stride}));
  for (int r = 0; r < 5; ++r) {
    std::vector<float> single(original.begin() + r * stride, original.begin() + (r + 1) * stride);
    if (rows[r] != nullptr) {
      SeqState* one[] = {rows[r]};
      REQUIRE(hook->bias(one, LogitsView{single.data(), 1, vocab, stride}));
    }
    std::vector<float> got(batch.begin() + r * stride, batch.begin() + (r + 1) * stride);
    CHECK(same_bits(got, single));
    CHECK(got[vocab] == 42.0f);  // padding is never touched
  }
}

TEST_CASE("bad arguments give a status, not a crash", "[hook]") {
  const KeyRing ring = test_ring(6);
  SchemeParams bad = default_params(SchemeKind::kKgw, 100);
  bad.kgw.gamma = 1.5;
  CHECK(Hook::create(ring, bad).status().code() == StatusCode::kInvalidArgument);
  bad = default_params(SchemeKind::kKgw, 100);
  bad.context_width = 0;
  CHECK_FALSE(Hook::create(ring, bad));
  bad.context_width = 17;
  CHECK_FALSE(Hook::create(ring, bad));
  bad = default_params(SchemeKind::kTournament, 100);
  bad.tournament.layers = 33;
  CHECK_FALSE(Hook::create(ring, bad));
  bad = default_params(SchemeKind::kKgw, 1);
  CHECK_FALSE(Hook::create(ring, bad));

  auto hook = Hook::create(ring, default_params(SchemeKind::kKgw, 100));
  REQUIRE(hook);
  auto other = Hook::create(ring, default_params(SchemeKind::kKgw, 100));
  REQUIRE(other);
  auto seq = other->new_sequence();
  REQUIRE(seq);
  std::vector<float> row(100);
  SeqState* rows[] = {&seq.value()};
  CHECK(hook->bias(rows, LogitsView{row.data(), 1, 100, 100}).code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(hook->bias(rows, LogitsView{nullptr, 1, 100, 100}));
  CHECK_FALSE(hook->bias(rows, LogitsView{row.data(), 1, 100, 50}));
  CHECK_FALSE(hook->bias(rows, LogitsView{row.data(), 2, 100, 100}));
  int32_t tok;
  const float u = 1.5f;
  auto own = hook->new_sequence();
  REQUIRE(own);
  SeqState* own_rows[] = {&own.value()};
  CHECK_FALSE(hook->choose(own_rows, LogitsView{row.data(), 1, 100, 100}, &u, &tok));
}

TEST_CASE("the tournament's biased row is a log-distribution over the vocabulary: padded ids become -inf", "[hook]") {
  const KeyRing ring = test_ring(9);
  const uint32_t vocab = 100, padded = 128;
  auto [hook, seq] = hook_and_sequence(ring, default_params(SchemeKind::kTournament, vocab));
  for (int32_t t : {3, 1, 4, 1, 5}) seq.accept(t);
  std::mt19937_64 rng(11);
  std::vector<float> row = random_logits(rng, padded);
  for (uint32_t i = vocab; i < padded; ++i) row[i] = 50.0f;  // padding a careless host would sample
  SeqState* rows[] = {&seq};
  REQUIRE(hook.bias(rows, LogitsView{row.data(), 1, padded, padded}));
  double mass = 0;
  for (uint32_t i = 0; i < vocab; ++i) mass += std::exp(static_cast<double>(row[i]));
  CHECK(mass == Approx(1.0).epsilon(1e-5));
  for (uint32_t i = vocab; i < padded; ++i) CHECK(row[i] == kNegInf);
}

TEST_CASE("score_sequence equals score at every position and refuses a first inside the first window", "[hook]") {
  const KeyRing ring = test_ring(10);
  for (SchemeKind kind : {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament}) {
    const std::vector<std::pair<bool, uint32_t>> seedings = {
        {false, 1}, {false, 4}, {true, 4}, {false, 16}, {true, 16}};
    for (const auto& [self_hash, h] : seedings) {
      SchemeParams p = default_params(kind, 1000);
      p.self_hash = self_hash;
      p.context_width = h;
      auto det = Detector::create(ring, p);
      REQUIRE(det);
      const size_t w = det->window_size();
      std::mt19937_64 rng(12);
      std::vector<int32_t> tokens(1300);                              // more than one batch of the detector's workspace
      for (auto& t : tokens) t = static_cast<int32_t>(rng() % 1100);  // some ids past the vocabulary
      std::vector<double> out(tokens.size() - w, -1.0);
      REQUIRE(det->score_sequence(tokens, w, out));
      for (size_t i = w; i < tokens.size(); ++i) {
        const std::span<const int32_t> window(tokens.data() + i - w, w);
        REQUIRE(out[i - w] == det->score(window, tokens[i]));
      }
      if (w > 0) CHECK(det->score_sequence(tokens, w - 1, out).code() == StatusCode::kInvalidArgument);
      std::vector<double> short_out(out.size() - 1);
      CHECK(det->score_sequence(tokens, w, short_out).code() == StatusCode::kInvalidArgument);
    }
  }
}

TEST_CASE("the vectorised row scans find exactly the entries a scalar loop finds", "[hook][prune]") {
  std::mt19937_64 rng(31);
  const float specials[] = {
      std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), kNegInf, -0.0f, 0.0f, 1e-40f,
      std::numeric_limits<float>::max(),       -std::numeric_limits<float>::max()};
  for (int trial = 0; trial < 3000; ++trial) {
    const size_t n = std::uniform_int_distribution<size_t>(0, 300)(rng);
    std::vector<float> row = random_logits(rng, static_cast<uint32_t>(n));
    for (auto& x : row) {
      if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
        x = specials[std::uniform_int_distribution<int>(0, 7)(rng)];
      }
    }
    float lo = std::round(std::normal_distribution<float>(0.0f, 4.0f)(rng));
    float hi = lo + static_cast<float>(std::uniform_int_distribution<int>(0, 8)(rng));
    if (trial % 3 == 0) lo = -std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::max();
    const size_t begin = std::uniform_int_distribution<size_t>(0, n)(rng);
    const size_t cap = std::uniform_int_distribution<size_t>(0, n)(rng);
    std::vector<uint32_t> expect;
    float expect_max = kNegInf, all_max = kNegInf;
    size_t expect_next = n;
    for (size_t i = 0; i < n; ++i) {
      if (!(lo <= row[i] && row[i] <= hi)) continue;
      all_max = std::max(all_max, row[i]);
      if (i < begin || expect_next != n) continue;
      if (expect.size() == cap) {
        expect_next = i;
        continue;
      }
      expect.push_back(static_cast<uint32_t>(i));
      expect_max = std::max(expect_max, row[i]);
    }
    std::vector<uint32_t> out(n + 1, 0xdeadbeefu);
    const detail::RangeHits hits = detail::scan_range(row.data(), begin, n, lo, hi, out.data(), cap);
    INFO("trial " << trial << " n " << n << " begin " << begin << " cap " << cap);
    REQUIRE(hits.count == expect.size());
    REQUIRE(std::equal(expect.begin(), expect.end(), out.begin()));
    REQUIRE(out[hits.count] == 0xdeadbeefu);
    REQUIRE(hits.next == expect_next);
    REQUIRE(hits.max == expect_max);
    REQUIRE(detail::max_in_range(row.data(), n, lo, hi) == all_max);
  }
}
