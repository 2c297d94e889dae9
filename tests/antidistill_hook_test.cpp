// The hook's antidistillation adjustment: unchanged bits without it, the same bits on the dense and candidate paths,
// exact top-k pruning, the green-aligned form's arithmetic, detection of adjusted text, and refused bad inputs.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "telltale.h"
#include "telltale/telltale.hpp"
#include "verify_test_support.hpp"

using namespace telltale;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr SchemeKind kBiasSchemes[] = {SchemeKind::kKgw, SchemeKind::kFingerprint, SchemeKind::kTournament};

std::vector<float> logits_row(std::mt19937_64& rng, uint32_t n) {
  std::vector<float> row(n);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  for (auto& x : row) x = std::round(normal(rng) * 16.0f) / 16.0f;  // coarse values: ties at the pruning threshold
  row[n / 3] = kNegInf;
  return row;
}

// kAdd: a proxy-like finite difference; kGreenAligned: a proxy distribution (softmax of random logits).
std::vector<float> adjustment_values(std::mt19937_64& rng, uint32_t n, AdjustmentKind kind) {
  std::vector<float> v(n);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& x : v) x = normal(rng);
  if (kind == AdjustmentKind::kAdd) return v;
  double sum = 0;
  for (auto& x : v) sum += (x = std::exp(2.0f * x));
  for (auto& x : v) x = static_cast<float>(x / sum);
  return v;
}

Adjustment one_row(const std::vector<float>& v, float lambda, AdjustmentKind kind) {
  const auto n = static_cast<int64_t>(v.size());
  return Adjustment{v.data(), 1, n, n, lambda, kind};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Fixture {
  Hook hook;
  SeqState seq;
};

Fixture make(SchemeKind scheme, uint32_t vocab, std::vector<int32_t> context = {3, 1, 4, 1}) {
  SchemeParams p = default_params(scheme, vocab);
  p.context_width = 4;
  auto hook = Hook::create(telltale::test::fixed_key(25), p);
  REQUIRE(hook);
  auto seq = hook->new_sequence(7, 11);
  REQUIRE(seq);
  for (int32_t t : context) seq->accept(t);
  return {std::move(hook).value(), std::move(seq).value()};
}

// The server's top-k after the bias: the k largest (ties to the lower id), the rest -inf.
std::vector<float> server_top_k(const std::vector<float>& row, uint32_t k) {
  std::vector<uint32_t> idx(row.size());
  std::iota(idx.begin(), idx.end(), 0u);
  std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return row[a] > row[b]; });
  std::vector<float> out(row.size(), kNegInf);
  for (uint32_t i = 0; i < k; ++i) out[idx[i]] = row[idx[i]];
  return out;
}

}  // namespace

TEST_CASE("a zero lambda or no adjustment leaves the bias and the draw bit-identical", "[antidistill][hook]") {
  std::mt19937_64 rng(2504);
  for (SchemeKind scheme : kBiasSchemes) {
    for (AdjustmentKind kind : {AdjustmentKind::kAdd, AdjustmentKind::kGreenAligned}) {
      if (scheme == SchemeKind::kTournament && kind == AdjustmentKind::kGreenAligned) continue;
      Fixture f = make(scheme, 300);
      const std::vector<float> row = logits_row(rng, 300);
      std::vector<float> v = adjustment_values(rng, 300, kind);
      v[5] = std::numeric_limits<float>::quiet_NaN();  // never read when lambda is 0
      std::vector<float> plain = row, zero = row;
      SeqState* rows[] = {&f.seq};
      REQUIRE(f.hook.bias(rows, LogitsView{plain.data(), 1, 300, 300}).is_ok());
      REQUIRE(f.hook.bias(rows, LogitsView{zero.data(), 1, 300, 300}, {}, one_row(v, 0.0f, kind)).is_ok());
      INFO("scheme " << scheme_name(scheme));
      CHECK(same_bits(plain, zero));
      for (float u : {0.1f, 0.6f, 0.93f}) {
        std::vector<float> a = row, b = row;
        int32_t ta = -1, tb = -1;
        REQUIRE(f.hook.choose(rows, LogitsView{a.data(), 1, 300, 300}, &u, &ta).is_ok());
        REQUIRE(f.hook.choose(rows, LogitsView{b.data(), 1, 300, 300}, &u, &tb, false, one_row(v, 0.0f, kind)).is_ok());
        CHECK(ta == tb);
        CHECK(same_bits(a, b));
      }
    }
  }
}

TEST_CASE("the additive adjustment is added before the bias: bias(row, adj) equals bias(row + lambda v)",
          "[antidistill][hook]") {
  std::mt19937_64 rng(13146);
  for (SchemeKind scheme : kBiasSchemes) {
    Fixture f = make(scheme, 257);
    const std::vector<float> row = logits_row(rng, 257);
    const std::vector<float> v = adjustment_values(rng, 257, AdjustmentKind::kAdd);
    std::vector<float> adjusted = row, by_hand = row;
    for (size_t i = 0; i < row.size(); ++i) by_hand[i] = row[i] + 1.5f * v[i];
    SeqState* rows[] = {&f.seq};
    REQUIRE(f.hook.bias(rows, LogitsView{by_hand.data(), 1, 257, 257}).is_ok());
    REQUIRE(f.hook.bias(rows, LogitsView{adjusted.data(), 1, 257, 257}, {}, one_row(v, 1.5f, AdjustmentKind::kAdd))
                .is_ok());
    INFO("scheme " << scheme_name(scheme));
    CHECK(same_bits(adjusted, by_hand));
  }
}

TEST_CASE("the green-aligned adjustment moves a green id by lambda q (1 - L) and a red one by -lambda q L",
          "[antidistill][hook]") {
  std::mt19937_64 rng(203812);
  const uint32_t vocab = 400;
  Fixture f = make(SchemeKind::kKgw, vocab);
  auto det = Detector::create(telltale::test::fixed_key(25), f.hook.params());
  REQUIRE(det);
  const std::vector<int32_t> window(f.seq.window().begin(), f.seq.window().end());
  const std::vector<float> q = adjustment_values(rng, vocab, AdjustmentKind::kGreenAligned);
  double mass = 0;
  std::vector<bool> green(vocab);
  for (uint32_t id = 0; id < vocab; ++id) {
    green[id] = det->score(window, static_cast<int32_t>(id)) > 0.5;
    if (green[id]) mass += q[id];
  }
  REQUIRE(mass > 0.05);
  REQUIRE(mass < 0.95);
  SchemeParams p = f.hook.params();
  p.kgw.delta = 0.0f;  // the adjustment alone
  auto flat = Hook::create(telltale::test::fixed_key(25), p);
  REQUIRE(flat);
  auto seq = flat->new_sequence();
  REQUIRE(seq);
  for (int32_t t : window) seq->accept(t);
  std::vector<float> row(vocab, 0.0f);
  SeqState* rows[] = {&*seq};
  const float lambda = 4.0f;
  REQUIRE(
      flat->bias(rows, LogitsView{row.data(), 1, vocab, vocab}, {}, one_row(q, lambda, AdjustmentKind::kGreenAligned))
          .is_ok());
  for (uint32_t id = 0; id < vocab; ++id) {
    const double expected = lambda * q[id] * ((green[id] ? 1.0 : 0.0) - mass);
    INFO("id " << id << " green " << green[id]);
    CHECK(row[id] == Approx(expected).margin(1e-6));
  }
}

TEST_CASE("dense and candidate paths give the same bits with an adjustment of either kind", "[antidistill][hook]") {
  std::mt19937_64 rng(2026);
  for (SchemeKind scheme : kBiasSchemes) {
    for (AdjustmentKind kind : {AdjustmentKind::kAdd, AdjustmentKind::kGreenAligned}) {
      if (scheme == SchemeKind::kTournament && kind == AdjustmentKind::kGreenAligned) continue;
      for (int trial = 0; trial < 20; ++trial) {
        const uint32_t vocab = std::uniform_int_distribution<uint32_t>(30, 3000)(rng);
        Fixture f = make(scheme, vocab, {trial, 2, 7, 1});
        const std::vector<float> row = logits_row(rng, vocab);
        const std::vector<float> v = adjustment_values(rng, vocab, kind);
        const float lambda = std::uniform_real_distribution<float>(-3.0f, 3.0f)(rng);
        std::vector<float> dense = row;
        SeqState* rows[] = {&f.seq};
        REQUIRE(f.hook.bias(rows, LogitsView{dense.data(), 1, vocab, vocab}, {}, one_row(v, lambda, kind)).is_ok());
        // Every id as a candidate: shuffled for the per-id bias of KGW and the fingerprint; in id order for the
        // tournament, which sums its distribution in list order, and for the draws below (an inverse CDF in list
        // order).
        std::vector<int32_t> ids(vocab);
        std::iota(ids.begin(), ids.end(), 0);
        if (scheme != SchemeKind::kTournament) std::shuffle(ids.begin(), ids.end(), rng);
        std::vector<float> cl(vocab);
        for (uint32_t i = 0; i < vocab; ++i) cl[i] = row[static_cast<size_t>(ids[i])];
        REQUIRE(
            f.hook.bias_candidates(f.seq, CandidatesView{ids.data(), cl.data(), vocab}, {}, one_row(v, lambda, kind))
                .is_ok());
        std::vector<float> from_list(vocab);
        for (uint32_t i = 0; i < vocab; ++i) from_list[static_cast<size_t>(ids[i])] = cl[i];
        INFO("scheme " << scheme_name(scheme) << " kind " << static_cast<int>(kind) << " trial " << trial);
        CHECK(same_bits(dense, from_list));
        // The draw: a dense row and its candidate list choose the same id.
        if (scheme == SchemeKind::kTournament) continue;
        const float u = std::uniform_real_distribution<float>(0.0f, 0.999f)(rng);
        std::vector<float> d2 = row;
        int32_t token = -1;
        REQUIRE(f.hook.choose(rows, LogitsView{d2.data(), 1, vocab, vocab}, &u, &token, false, one_row(v, lambda, kind))
                    .is_ok());
        std::iota(ids.begin(), ids.end(), 0);
        for (uint32_t i = 0; i < vocab; ++i) cl[i] = row[static_cast<size_t>(ids[i])];
        size_t index = 0;
        REQUIRE(f.hook
                    .choose_candidates(f.seq, CandidatesView{ids.data(), cl.data(), vocab}, u, &index,
                                       one_row(v, lambda, kind))
                    .is_ok());
        CHECK(ids[index] == token);
      }
    }
  }
}

TEST_CASE("pruning stays exact with an adjustment: pruned dense rows and accepted candidate lists equal the full pass",
          "[antidistill][hook][prune]") {
  std::mt19937_64 rng(77);
  size_t accepted = 0, refused = 0;
  for (SchemeKind scheme : {SchemeKind::kKgw, SchemeKind::kFingerprint}) {
    for (AdjustmentKind kind : {AdjustmentKind::kAdd, AdjustmentKind::kGreenAligned}) {
      for (int trial = 0; trial < 150; ++trial) {
        const uint32_t vocab = std::uniform_int_distribution<uint32_t>(64, 2000)(rng);
        const uint32_t k = std::uniform_int_distribution<uint32_t>(1, 40)(rng);
        Fixture f = make(scheme, vocab, {trial, 5, 9, 2});
        const std::vector<float> row = logits_row(rng, vocab);
        const std::vector<float> v = adjustment_values(rng, vocab, kind);
        const float lambda = std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng);
        const Adjustment adj = one_row(v, lambda, kind);
        SeqState* rows[] = {&f.seq};
        std::vector<float> full = row, pruned = row;
        REQUIRE(f.hook.bias(rows, LogitsView{full.data(), 1, vocab, vocab}, {}, adj).is_ok());
        REQUIRE(f.hook.bias(rows, LogitsView{pruned.data(), 1, vocab, vocab}, BiasOptions{k}, adj).is_ok());
        const std::vector<float> want = server_top_k(full, k);
        INFO("scheme " << scheme_name(scheme) << " kind " << static_cast<int>(kind) << " trial " << trial);
        CHECK(same_bits(server_top_k(pruned, k), want));
        // The server's candidate list: its top m of the unadjusted row, the rest bounded by the (m+1)-th.
        std::vector<int32_t> order(vocab);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
        const uint32_t m = std::min<uint32_t>(vocab - 1, k + std::uniform_int_distribution<uint32_t>(0, 200)(rng));
        std::vector<int32_t> ids(order.begin(), order.begin() + m);
        std::vector<float> cl(m);
        for (uint32_t i = 0; i < m; ++i) cl[i] = row[static_cast<size_t>(ids[i])];
        const std::vector<float> before = cl;
        const CandidateBound bound{k, row[static_cast<size_t>(order[m])]};
        const Status s = f.hook.bias_candidates(f.seq, CandidatesView{ids.data(), cl.data(), m}, bound, adj);
        if (s.code() == StatusCode::kIncomplete) {
          ++refused;
          CHECK(same_bits(cl, before));  // refused: nothing changed
          continue;
        }
        REQUIRE(s.is_ok());
        ++accepted;
        std::vector<float> from_list(vocab, kNegInf);
        for (uint32_t i = 0; i < m; ++i) from_list[static_cast<size_t>(ids[i])] = cl[i];
        CHECK(same_bits(server_top_k(from_list, k), want));
      }
    }
  }
  CHECK(accepted > 100);  // the bound is not so loose that every list falls back to the dense path
  CHECK(refused > 0);     // nor so tight that no list needed it
}

TEST_CASE("text drawn with an adjustment of either kind is still detected by the unchanged detector",
          "[antidistill][hook][detect]") {
  std::mt19937_64 rng(911);
  for (AdjustmentKind kind : {AdjustmentKind::kAdd, AdjustmentKind::kGreenAligned}) {
    const uint32_t vocab = 500;
    Fixture f = make(SchemeKind::kKgw, vocab);
    std::vector<int32_t> text(f.seq.window().begin(), f.seq.window().end());
    SeqState* rows[] = {&f.seq};
    for (int step = 0; step < 400; ++step) {
      std::vector<float> row = logits_row(rng, vocab);
      const std::vector<float> v = adjustment_values(rng, vocab, kind);
      const float u = std::uniform_real_distribution<float>(0.0f, 0.999f)(rng);
      int32_t token = -1;
      REQUIRE(f.hook.choose(rows, LogitsView{row.data(), 1, vocab, vocab}, &u, &token, false, one_row(v, 2.0f, kind))
                  .is_ok());
      f.seq.accept(token);
      text.push_back(token);
    }
    auto det = Detector::create(telltale::test::fixed_key(25), f.hook.params());
    REQUIRE(det);
    std::vector<double> scores(text.size() - det->window_size());
    REQUIRE(det->score_sequence(text, det->window_size(), scores).is_ok());
    const double n = static_cast<double>(scores.size());
    const double green = std::accumulate(scores.begin(), scores.end(), 0.0);
    const double gamma = f.hook.params().kgw.gamma;
    const double z = (green - gamma * n) / std::sqrt(n * gamma * (1 - gamma));
    INFO("kind " << static_cast<int>(kind) << " green " << green << " of " << n << " z " << z);
    CHECK(z > 6.0);
  }
}

TEST_CASE("bad adjustments are refused with a message and leave the row untouched", "[antidistill][hook][errors]") {
  std::mt19937_64 rng(5);
  Fixture f = make(SchemeKind::kKgw, 100);
  const std::vector<float> row = logits_row(rng, 100);
  const std::vector<float> v = adjustment_values(rng, 100, AdjustmentKind::kAdd);
  std::vector<float> wide(101, 0.0f), with_nan = v, q = adjustment_values(rng, 100, AdjustmentKind::kGreenAligned);
  with_nan[40] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> over_one = q;
  over_one[3] = 1.5f;
  struct Case {
    const char* what;
    Adjustment adj;
  };
  const Case cases[] = {
      {"NaN lambda", one_row(v, std::numeric_limits<float>::quiet_NaN(), AdjustmentKind::kAdd)},
      {"infinite lambda", one_row(v, std::numeric_limits<float>::infinity(), AdjustmentKind::kAdd)},
      {"a row of the wrong size", one_row(wide, 1.0f, AdjustmentKind::kAdd)},
      {"two rows for one", Adjustment{v.data(), 2, 100, 0, 1.0f, AdjustmentKind::kAdd}},
      {"a stride shorter than the row", Adjustment{v.data(), 1, 100, 50, 1.0f, AdjustmentKind::kAdd}},
      {"a NaN value", one_row(with_nan, 1.0f, AdjustmentKind::kAdd)},
      {"a probability above 1", one_row(over_one, 1.0f, AdjustmentKind::kGreenAligned)},
      {"an unknown kind", one_row(v, 1.0f, static_cast<AdjustmentKind>(9))},
  };
  SeqState* rows[] = {&f.seq};
  for (const Case& c : cases) {
    INFO(c.what);
    std::vector<float> r = row;
    const Status s = f.hook.bias(rows, LogitsView{r.data(), 1, 100, 100}, {}, c.adj);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_FALSE(s.message().empty());
    CHECK(same_bits(r, row));
    int32_t token = -1;
    const float u = 0.5f;
    CHECK(f.hook.choose(rows, LogitsView{r.data(), 1, 100, 100}, &u, &token, false, c.adj).code() ==
          StatusCode::kInvalidArgument);
    CHECK(same_bits(r, row));
  }
  // A candidate call reads one row; the green-aligned form needs a scheme with a green set.
  std::vector<int32_t> ids = {1, 2, 3};
  std::vector<float> cl = {0.5f, 0.25f, 0.0f};
  CHECK(f.hook
            .bias_candidates(f.seq, CandidatesView{ids.data(), cl.data(), 3}, {},
                             Adjustment{v.data(), 2, 50, 50, 1.0f, AdjustmentKind::kAdd})
            .code() == StatusCode::kInvalidArgument);
  Fixture g = make(SchemeKind::kGumbel, 100);
  SeqState* grows[] = {&g.seq};
  std::vector<float> r = row;
  int32_t token = -1;
  const float u = 0.5f;
  CHECK(g.hook
            .choose(grows, LogitsView{r.data(), 1, 100, 100}, &u, &token, false,
                    one_row(q, 1.0f, AdjustmentKind::kGreenAligned))
            .code() == StatusCode::kUnsupported);
}

TEST_CASE("the C ABI's adjusted calls cut a batch of more than 64 rows into chunks that match the C++ calls",
          "[antidistill][hook][c_api]") {
  std::mt19937_64 rng(64);
  const uint32_t vocab = 200, n_rows = 70;
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(25 + i);  // fixed_key(25)'s secret
  tt_keyring* keys = nullptr;
  REQUIRE(tt_keyring_from_secret(secret.data(), secret.size(), &keys) == TT_OK);
  tt_params p = tt_params_default(TT_SCHEME_KGW, vocab);
  p.context_width = 4;
  tt_hook* hook = nullptr;
  REQUIRE(tt_hook_create(keys, &p, &hook) == TT_OK);
  Fixture f = make(SchemeKind::kKgw, vocab);
  std::vector<tt_seq*> seqs(n_rows);
  for (auto& s : seqs) {
    REQUIRE(tt_seq_create(hook, 7, 11, &s) == TT_OK);
    for (int32_t t : {3, 1, 4, 1}) tt_seq_accept(s, t);
  }
  std::vector<float> logits, values;
  for (uint32_t r = 0; r < n_rows; ++r) {
    const auto row = logits_row(rng, vocab);
    const auto v = adjustment_values(rng, vocab, AdjustmentKind::kAdd);
    logits.insert(logits.end(), row.begin(), row.end());
    values.insert(values.end(), v.begin(), v.end());
  }
  std::vector<float> c_logits = logits;
  const tt_adjustment_view adj{values.data(), n_rows, vocab, vocab, 0.75f, TT_ADJUST_ADD};
  REQUIRE(tt_hook_bias_adjusted(hook, seqs.data(), tt_logits_view{c_logits.data(), n_rows, vocab, vocab}, 0, &adj) ==
          TT_OK);
  SeqState* rows[] = {&f.seq};
  for (uint32_t r = 0; r < n_rows; ++r) {
    std::vector<float> row(logits.begin() + r * vocab, logits.begin() + (r + 1) * vocab);
    const std::vector<float> v(values.begin() + r * vocab, values.begin() + (r + 1) * vocab);
    REQUIRE(f.hook.bias(rows, LogitsView{row.data(), 1, vocab, vocab}, {}, one_row(v, 0.75f, AdjustmentKind::kAdd))
                .is_ok());
    INFO("row " << r);
    CHECK(std::memcmp(row.data(), c_logits.data() + r * vocab, vocab * sizeof(float)) == 0);
  }
  const tt_adjustment_view short_adj{values.data(), n_rows - 1, vocab, vocab, 0.75f, TT_ADJUST_ADD};
  CHECK(tt_hook_bias_adjusted(hook, seqs.data(), tt_logits_view{c_logits.data(), n_rows, vocab, vocab}, 0,
                              &short_adj) == TT_ERR_INVALID_ARGUMENT);
  const tt_adjustment_view nan_lambda{values.data(), n_rows, vocab, vocab, std::nanf(""), TT_ADJUST_ADD};
  CHECK(tt_hook_bias_adjusted(hook, seqs.data(), tt_logits_view{c_logits.data(), n_rows, vocab, vocab}, 0,
                              &nan_lambda) == TT_ERR_INVALID_ARGUMENT);
  CHECK(std::string(tt_last_error()).find("lambda") != std::string::npos);
  for (auto* s : seqs) tt_seq_free(s);
  tt_hook_free(hook);
  tt_keyring_free(keys);
}
