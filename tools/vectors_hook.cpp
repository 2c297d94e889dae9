// Test-vector sections on generation: hook steps at the edges (padded rows, mask_others, top-k pruning, rows with no
// finite logit, other KGW widths and tournament depths), the tournament's probabilities in binary64, the fallback
// generator, the repeated-context FIFO and the fingerprint scheme's account layer. spec/prf.md section 8.2.
#include <cmath>
#include <limits>

#include "hook/step.hpp"
#include "schemes/tournament.hpp"
#include "telltale/fingerprint.hpp"
#include "vectors.hpp"

using nlohmann::json;

namespace telltale::vectors {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The hook_steps row: logit of id i is (i mod 7) * 0.5 - 1.
std::vector<float> steps_row(uint32_t n) {
  std::vector<float> row(n);
  for (uint32_t i = 0; i < n; ++i) row[i] = static_cast<float>(i % 7) * 0.5f - 1.0f;
  return row;
}

// An irregular row: logit of id i is float(top 24 bits of splitmix64(seed * 1000003 + i) * 2^-24) * 8 - 4.
std::vector<float> mixed_row(uint64_t seed, uint32_t n) {
  std::vector<float> row(n);
  for (uint32_t i = 0; i < n; ++i) {
    const auto u = static_cast<float>(static_cast<double>(splitmix64(seed * 1000003 + i) >> 40) * 0x1p-24);
    row[i] = u * 8.0f - 4.0f;
  }
  return row;
}

struct HookCase {
  const char* name;
  SchemeParams params;
  std::vector<float> logits;  // n_vocab entries
  uint32_t top_k = 0;
  bool mask_others = false;
};

std::vector<HookCase> hook_cases() {
  std::vector<HookCase> c;
  c.push_back({"kgw-padded-vocab50-row64", default_params(SchemeKind::kKgw, 50), steps_row(64)});
  c.push_back({"tournament-padded-vocab50-row64", default_params(SchemeKind::kTournament, 50), steps_row(64)});
  c.push_back({"gumbel-padded-vocab50-row64-mask", default_params(SchemeKind::kGumbel, 50), steps_row(64), 0, true});
  c.push_back({"kgw-mask-others", default_params(SchemeKind::kKgw, 64), steps_row(64), 0, true});
  c.push_back({"tournament-mask-others", default_params(SchemeKind::kTournament, 64), steps_row(64), 0, true});
  SchemeParams p = default_params(SchemeKind::kKgw, 64);
  p.kgw.gamma = 0.125;
  c.push_back({"kgw-gamma0.125-b4", p, steps_row(64)});
  p.kgw.gamma = 3.0 / 256;
  c.push_back({"kgw-gamma3/256-b8", p, steps_row(64)});
  c.push_back({"kgw-top-k3", default_params(SchemeKind::kKgw, 64), mixed_row(7, 64), 3});
  c.push_back({"kgw-full-pass-same-row", default_params(SchemeKind::kKgw, 64), mixed_row(7, 64)});
  std::vector<float> none(64, -kInf);
  none[5] = std::numeric_limits<float>::quiet_NaN();
  c.push_back({"kgw-no-finite-logit", default_params(SchemeKind::kKgw, 64), none, 0, true});
  c.push_back({"gumbel-no-finite-logit", default_params(SchemeKind::kGumbel, 64), none});
  c.push_back({"tournament-no-finite-logit", default_params(SchemeKind::kTournament, 64), none});
  p = default_params(SchemeKind::kTournament, 64);
  p.tournament.layers = 12;
  c.push_back({"tournament-m12", p, mixed_row(3, 64)});
  p.tournament.layers = 32;
  c.push_back({"tournament-m32", p, mixed_row(3, 64)});
  return c;
}

// A sequence with the hook_steps context accepted; rng_seed 1.
Result<SeqState> primed(const Hook& hook, uint64_t account = 0) {
  auto seq = hook.new_sequence(account, 1);
  if (!seq) return seq.status();
  for (int32_t t : {11, 12, 13, 14}) seq->accept(t);
  return seq;
}

Status add_hook_cases(json& out, const KeyRing& ring) {
  for (const HookCase& c : hook_cases()) {
    auto hook = Hook::create(ring, c.params);
    if (!hook) return hook.status();
    auto seq = primed(*hook);
    if (!seq) return seq.status();
    const auto n = static_cast<int64_t>(c.logits.size());
    json step{{"name", c.name},
              {"params", params_json(c.params)},
              {"n_vocab", n},
              {"context", {11, 12, 13, 14}},
              {"uniform", 0.375},
              {"top_k", c.top_k},
              {"mask_others", c.mask_others},
              {"logits_bits", row_bits(c.logits)}};
    SeqState* rows[] = {&seq.value()};
    if (c.params.scheme != SchemeKind::kGumbel) {
      std::vector<float> biased = c.logits;
      BiasOptions options;
      options.top_k = c.top_k;
      if (auto s = hook->bias(rows, LogitsView{biased.data(), 1, n, n}, options); !s) return s;
      step["biased_bits"] = row_bits(biased);
    }
    std::vector<float> row = c.logits;
    const float u = 0.375f;
    int32_t token = -2;
    if (auto s = hook->choose(rows, LogitsView{row.data(), 1, n, n}, &u, &token, c.mask_others); !s) return s;
    step["chosen"] = token;
    step["row_after_choose_bits"] = row_bits(row);
    out["hook_cases"].push_back(step);
  }
  return Status::ok();
}

// The tournament distribution in binary64 on a row where every other grouping of its arithmetic gives other bits.
Status add_tournament_probabilities(json& out, const KeyRing& ring) {
  const uint32_t vocab = 64;
  const SchemeParams params = default_params(SchemeKind::kTournament, vocab);
  std::vector<float> logits = mixed_row(2, vocab);
  auto det = Detector::create(ring, params);
  if (!det) return det.status();
  const std::vector<int32_t> context = {11, 12, 13, 14};
  tournament::Buffers buf;
  buf.reserve(vocab);
  double max_logit = -std::numeric_limits<double>::infinity();
  for (uint32_t i = 0; i < vocab; ++i) {
    buf.index[i] = i;
    buf.values[i] = det->g_values(context, static_cast<int32_t>(i));  // layers 0..m-1: all the pass reads
    max_logit = std::fmax(max_logit, static_cast<double>(logits[i]));
  }
  tournament::reweight(buf, vocab, detail::DenseList{logits.data(), vocab}, max_logit, params.tournament.layers);
  std::vector<std::string> probs;
  for (uint32_t i = 0; i < vocab; ++i) probs.push_back(hex64(std::bit_cast<uint64_t>(buf.probs[i])));
  out["hook_tournament_probabilities"] = {{"params", params_json(params)},
                                          {"context", context},
                                          {"logits_bits", row_bits(logits)},
                                          {"probabilities_bits", probs}};
  return Status::ok();
}

// Draws of the fallback generator on unwatermarked steps (fewer than h tokens accepted) over 64 equal logits, where
// plain sampling picks floor(64 u).
Status add_fallback_draws(json& out, const KeyRing& ring) {
  const uint32_t vocab = 64;
  auto hook = Hook::create(ring, default_params(SchemeKind::kKgw, vocab));
  if (!hook) return hook.status();
  for (uint64_t rng_seed : {0ull, 1ull, 0xdeadbeefull, 0xffffffffffffffffull}) {
    for (uint32_t accepted = 0; accepted < 3; ++accepted) {
      auto seq = hook->new_sequence(0, rng_seed);
      if (!seq) return seq.status();
      for (uint32_t i = 0; i < accepted; ++i) seq->accept(static_cast<int32_t>(i + 1));
      std::vector<float> row(vocab, 0.0f);
      SeqState* rows[] = {&seq.value()};
      int32_t token = -2;
      if (auto s = hook->choose(rows, LogitsView{row.data(), 1, vocab, vocab}, nullptr, &token); !s) return s;
      const float u = static_cast<float>(splitmix64(rng_seed ^ splitmix64(accepted)) >> 40) * 0x1p-24f;
      out["fallback_draws"].push_back(
          {{"rng_seed", hex64(rng_seed)}, {"accepted", accepted}, {"u_bits", float_bits(u)}, {"chosen", token}});
    }
  }
  return Status::ok();
}

// The repeated-context rule: Gumbel, h = 1, a FIFO of 2; the tokens accepted after each step are given, so the
// contexts repeat on a known pattern.
Status add_repeated_contexts(json& out, const KeyRing& ring) {
  const uint32_t vocab = 64;
  SchemeParams params = default_params(SchemeKind::kGumbel, vocab);
  params.context_width = 1;
  params.context_history = 2;
  auto hook = Hook::create(ring, params);
  if (!hook) return hook.status();
  auto seq = hook->new_sequence(0, 1);
  if (!seq) return seq.status();
  seq->accept(3);
  const std::vector<int32_t> next = {5, 3, 5, 7, 3, 5, 9, 5};
  json steps;
  for (int32_t t : next) {
    std::vector<float> row = steps_row(vocab);
    SeqState* rows[] = {&seq.value()};
    const float u = 0.375f;
    int32_t token = -2;
    if (auto s = hook->choose(rows, LogitsView{row.data(), 1, vocab, vocab}, &u, &token); !s) return s;
    const uint64_t watermarked = seq->watermarked_steps();
    seq->accept(t);
    steps.push_back({{"chosen", token}, {"watermarked", seq->watermarked_steps() > watermarked}, {"accepted_next", t}});
  }
  out["repeated_contexts"] = {{"params", params_json(params)},
                              {"prompt", {3}},
                              {"uniform", 0.375},
                              {"steps", steps},
                              {"watermarked_steps", seq->watermarked_steps()},
                              {"skipped_repeated", seq->skipped_repeated()}};
  return Status::ok();
}

// The fingerprint scheme: one biased row for account 77, and the account marks of a short document.
Status add_fingerprint_steps(json& out, const KeyRing& ring) {
  const uint32_t vocab = 64;
  const SchemeParams params = default_params(SchemeKind::kFingerprint, vocab);
  auto hook = Hook::create(ring, params);
  if (!hook) return hook.status();
  auto seq = primed(*hook, 77);
  if (!seq) return seq.status();
  std::vector<float> row = steps_row(vocab);
  SeqState* rows[] = {&seq.value()};
  if (auto s = hook->bias(rows, LogitsView{row.data(), 1, vocab, vocab}); !s) return s;
  auto det = Detector::create(ring, params);
  if (!det) return det.status();
  const std::vector<int32_t> doc = {11, 12, 13, 14, 5, 9, 63, 64, -1, 0};
  std::vector<uint32_t> marks(doc.size() - 4);
  if (auto s = det->account_marks(doc, 4, marks); !s) return s;
  out["fingerprint_steps"] = {{"params", params_json(params)},
                              {"account", 77},
                              {"context", {11, 12, 13, 14}},
                              {"logits_bits", row_bits(steps_row(vocab))},
                              {"biased_bits", row_bits(row)},
                              {"document", doc},
                              {"first", 4},
                              {"account_marks", marks}};
  json code;
  for (uint32_t account : {0u, 77u, 0x01020304u, 0xffffffffu}) {
    std::vector<uint32_t> symbols;
    for (uint32_t outer : {0u, 1u, 2u, 255u}) symbols.push_back(fingerprint_symbol(account, outer));
    std::vector<uint32_t> bits;
    for (uint32_t pos : {0u, 1u, 257u, 1000u, 65535u}) bits.push_back(fingerprint_codeword_bit(account, pos));
    code.push_back({{"account", account},
                    {"symbols_at", {0, 1, 2, 255}},
                    {"symbols", symbols},
                    {"bits_at", {0, 1, 257, 1000, 65535}},
                    {"bits", bits}});
  }
  out["fingerprint_code"] = code;
  return Status::ok();
}

// Gumbel ties: ids 20378 and 137363 have the same 32-bit value after [11, 12, 13, 14], hence the same race key at
// equal logits; the lower id wins whatever the list order.
Status add_gumbel_tie(json& out, const KeyRing& ring) {
  const SchemeParams params = default_params(SchemeKind::kGumbel, 151936);
  auto hook = Hook::create(ring, params);
  if (!hook) return hook.status();
  auto det = Detector::create(ring, params);
  if (!det) return det.status();
  const std::vector<int32_t> context = {11, 12, 13, 14};
  if (det->score(context, 20378) != det->score(context, 137363)) return invalid_argument("the Gumbel tie is gone");
  json orders;
  for (std::vector<int32_t> ids : {std::vector<int32_t>{137363, 20378, 5}, std::vector<int32_t>{20378, 137363, 5}}) {
    std::vector<float> logits = {1.0f, 1.0f, -30.0f};
    auto seq = primed(*hook);
    if (!seq) return seq.status();
    size_t index = 0;
    if (auto s = hook->choose_candidates(*seq, CandidatesView{ids.data(), logits.data(), ids.size()}, 0.375f, &index);
        !s) {
      return s;
    }
    orders.push_back({{"ids", ids}, {"logits", {1.0, 1.0, -30.0}}, {"chosen_index", index}, {"chosen_id", ids[index]}});
  }
  out["gumbel_tie"] = {{"params", params_json(params)},
                       {"context", context},
                       {"score", det->score(context, 20378)},
                       {"candidates", orders}};
  return Status::ok();
}

}  // namespace

Status add_hook_sections(json& out, const KeyRing& ring) {
  if (auto s = add_hook_cases(out, ring); !s) return s;
  if (auto s = add_tournament_probabilities(out, ring); !s) return s;
  if (auto s = add_fallback_draws(out, ring); !s) return s;
  if (auto s = add_repeated_contexts(out, ring); !s) return s;
  if (auto s = add_gumbel_tie(out, ring); !s) return s;
  return add_fingerprint_steps(out, ring);
}

}  // namespace telltale::vectors
