// Writes spec/test-vectors.json: the values of the PRF, the schemes' per-token scores and the hook's outputs for a
// fixed test secret, so that a second implementation can check itself bit for bit. The tests re-derive every entry.
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "radio/context_filter.hpp"
#include "score/corpus_scanner.hpp"
#include "score/partial_file.hpp"
#include "telltale/telltale.hpp"
#include "vectors.hpp"

using nlohmann::json;
using namespace telltale;
using vectors::float_bits;
using vectors::hex;

namespace {

int fail(const Status& s) {
  std::cerr << "make_test_vectors: " << s.message() << "\n";
  return 1;
}

std::string hex(const std::string& bytes) {
  return vectors::hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// A small partial-result file (spec/partial-results.md): one KGW analysis, two documents, three tuples. The bytes
// end with the SHA-256 of all that precede them.
Result<json> partial_file_vector(const KeyRing& ring) {
  auto detector = Detector::create(ring, default_params(SchemeKind::kKgw, 64));
  if (!detector) return detector.status();
  score::PartialResult::State state;
  state.documents = 2;
  state.tokens = 9;
  state.no_context = 4;
  state.local_tuples = 3;
  state.entries = {{0x1111111111111111, 0, 1}, {0x5555555555555555, 1, 0}, {0x9999999999999999, 1, 1}};
  std::vector<score::PartialResult> results;
  results.push_back(score::PartialResult::from_state(
      score::analysis_info(*detector, ring.key_id_hex(), score::ScoringRules{}, ""), std::move(state)));
  std::ostringstream out;
  TT_RETURN_IF_ERROR(score::write_partial_stream(out, results));
  const std::string bytes = out.str();
  return json{{"description",
               "one KGW analysis (vocabulary 64), 2 documents, 3 tuples; the last 32 bytes are the "
               "SHA-256 of every byte before them"},
              {"bytes", hex(bytes)},
              {"sha256", hex(bytes.substr(bytes.size() - 32))}};
}

// A small teacher-context filter file (spec/radioactivity.md section 4): 64 bits holding the windows [1, 2] and
// [3, 4]; the last 32 bytes are the SHA-256 of every byte before them.
Result<json> context_filter_vector() {
  auto filter = radio::ContextFilter::create(2, 4, 0.1);
  if (!filter) return filter.status();
  const int32_t a[] = {1, 2};
  const int32_t b[] = {3, 4};
  filter->insert(a);
  filter->insert(b);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("telltale-vector-" + std::to_string(::getpid()) + ".ttcf")).string();
  const Status written = filter->write(path);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  TT_RETURN_IF_ERROR(written);
  return json{{"description",
               "window 2, 64 bits, windows [1, 2] and [3, 4] inserted; the last 32 bytes are the "
               "SHA-256 of every byte before them"},
              {"inserted", {{1, 2}, {3, 4}}},
              {"bytes", hex(bytes)},
              {"sha256", hex(bytes.substr(bytes.size() - 32))}};
}

}  // namespace

int main() {
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < 32; ++i) secret[i] = static_cast<uint8_t>(i);  // 00 01 02 ... 1f: a public test secret
  auto ring = KeyRing::from_secret(secret);
  if (!ring) return fail(ring.status());
  json out;
  out["description"] = "telltale PRF and scheme test vectors; see spec/prf.md. Secret bytes are 00..1f (public).";
  out["master_secret"] = hex(secret.data(), 32);
  out["key_id"] = ring->key_id_hex();

  const SchemeKind kinds[] = {SchemeKind::kKgw, SchemeKind::kGumbel, SchemeKind::kTournament};
  for (SchemeKind kind : kinds) {
    uint8_t seeder_key[16], ks_key[16];
    if (auto s = ring->derive(kind, KeyPurpose::kSeeder, 0, seeder_key); !s) return fail(s);
    if (auto s = ring->derive(kind, KeyPurpose::kKeystream, 0, ks_key); !s) return fail(s);
    out["subkeys"].push_back(
        {{"scheme", scheme_name(kind)}, {"seeder", hex(seeder_key, 16)}, {"keystream", hex(ks_key, 16)}});
  }

  // Seeds and keystream blocks under the KGW subkeys.
  uint8_t seeder_key[16], ks_key[16];
  (void)ring->derive(SchemeKind::kKgw, KeyPurpose::kSeeder, 0, seeder_key);
  (void)ring->derive(SchemeKind::kKgw, KeyPurpose::kKeystream, 0, ks_key);
  Seeder seeder(std::span<const uint8_t, 16>(seeder_key, 16));
  auto ks = Keystream::create(std::span<const uint8_t, 16>(ks_key, 16));
  if (!ks) return fail(ks.status());
  const std::vector<std::vector<int32_t>> windows = {
      {1}, {1, 2, 3, 4}, {403, 407, 261, 378}, {0, 0, 0, 0}, {151935, 7, 99999, 12}};
  for (const auto& w : windows) {
    const StepSeed left = seeder.left_hash(w);
    const StepSeed self = seeder.self_hash(std::span<const int32_t>(w).subspan(1), 42);
    uint8_t blocks[32];
    ks->blocks(left, 0, 1, blocks);
    ks->blocks(left, 1000, 1, blocks + 16);
    out["seeds"].push_back({{"window", w},
                            {"left_hash_nonce", hex(left.nonce.data(), 12)},
                            {"self_hash_window", std::vector<int32_t>(w.begin() + 1, w.end())},
                            {"self_hash_candidate", 42},
                            {"self_hash_nonce", hex(self.nonce.data(), 12)},
                            {"block_0", hex(blocks, 16)},
                            {"block_1000", hex(blocks + 16, 16)}});
  }

  // Per-token scores for each scheme and seeding.
  struct Case {
    const char* name;
    SchemeParams params;
  };
  std::vector<Case> cases;
  {
    SchemeParams p = default_params(SchemeKind::kKgw, 151936);
    cases.push_back({"kgw-gamma0.25-h4-left", p});
    p.kgw.gamma = 0.5;
    p.context_width = 1;
    cases.push_back({"kgw-gamma0.5-h1-left", p});
    p = default_params(SchemeKind::kKgw, 151936);
    p.kgw.gamma = 0.3;
    p.self_hash = true;
    cases.push_back({"kgw-gamma0.3-h4-self", p});
    cases.push_back({"gumbel-h4-left", default_params(SchemeKind::kGumbel, 151936)});
    cases.push_back({"tournament-m30-h4-left", default_params(SchemeKind::kTournament, 151936)});
  }
  for (const Case& c : cases) {
    auto det = Detector::create(*ring, c.params);
    if (!det) return fail(det.status());
    json entry{{"name", c.name}, {"params", describe(c.params)}};
    for (const auto& w4 : windows) {
      if (w4.size() < det->window_size()) continue;  // too short to be a full window for this scheme
      const std::span<const int32_t> w = std::span<const int32_t>(w4).last(det->window_size());
      for (int32_t token : {0, 5, 261, 100000, 151935}) {
        json v{{"window", std::vector<int32_t>(w.begin(), w.end())}, {"token", token}, {"score", det->score(w, token)}};
        if (c.params.scheme == SchemeKind::kTournament) v["g_values"] = det->g_values(w, token);
        entry["scores"].push_back(v);
      }
    }
    out["schemes"].push_back(entry);
  }

  // One hook step on a small vocabulary: the biased row (KGW) and the chosen ids (all schemes), as float bits.
  {
    const uint32_t vocab = 64;
    std::vector<float> logits(vocab);
    for (uint32_t i = 0; i < vocab; ++i) logits[i] = static_cast<float>(i % 7) * 0.5f - 1.0f;
    for (SchemeKind kind : kinds) {
      auto hook = Hook::create(*ring, default_params(kind, vocab));
      if (!hook) return fail(hook.status());
      auto seq = hook->new_sequence(0, 1);
      if (!seq) return fail(seq.status());
      for (int32_t t : {11, 12, 13, 14}) seq->accept(t);
      json step{{"scheme", scheme_name(kind)}, {"vocab", vocab}, {"context", {11, 12, 13, 14}}, {"uniform", 0.375}};
      std::vector<uint32_t> in_bits;
      for (float f : logits) in_bits.push_back(float_bits(f));
      step["logits_bits"] = in_bits;
      SeqState* rows[] = {&seq.value()};
      if (kind != SchemeKind::kGumbel) {
        std::vector<float> biased = logits;
        if (auto s = hook->bias(rows, LogitsView{biased.data(), 1, vocab, vocab}); !s) return fail(s);
        std::vector<uint32_t> bits;
        for (float f : biased) bits.push_back(float_bits(f));
        step["biased_bits"] = bits;
      }
      std::vector<float> row = logits;
      const float u = 0.375f;
      int32_t token = -1;
      if (auto s = hook->choose(rows, LogitsView{row.data(), 1, vocab, vocab}, &u, &token); !s) return fail(s);
      step["chosen"] = token;
      out["hook_steps"].push_back(step);
    }
  }
  // Sections added later (spec/prf.md 8.2); every key sorts before "subkeys", so the earlier text stays unchanged.
  if (auto s = vectors::add_core_sections(out, *ring); !s) return fail(s);
  if (auto s = vectors::add_hook_sections(out, *ring); !s) return fail(s);
  if (auto s = vectors::add_verifier_sections(out); !s) return fail(s);
  // The checksummed binary files of the verifier: the bytes, so that a reader can be checked bit for bit.
  auto partial = partial_file_vector(*ring);
  if (!partial) return fail(partial.status());
  out["partial_file"] = std::move(partial).value();
  auto filter = context_filter_vector();
  if (!filter) return fail(filter.status());
  out["context_filter"] = std::move(filter).value();
  std::cout << out.dump(1) << "\n";
  return 0;
}
