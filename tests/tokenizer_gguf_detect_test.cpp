// The acceptance test of GGUF tokenizers: the hook driven at a production vocabulary's size (Llama 3's 128256 ids,
// Qwen 2's 151936) picks ids, the vocabulary decodes them to text, and `telltale detect --tokenizer that.gguf`
// detects it, with the tokenizer's kind and hash in the evidence record; the same loop without the key is not.
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "input/ids_kept.hpp"
#include "input/tokenizer.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "tokenizer_test_support.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::input::Tokenizer;
using telltale::test::run_command;
using telltale::test::shell_quote;

// The ids whose text is one space and 2..10 lowercase ASCII letters: a stand-in model that writes English-looking
// words, so that the decoded text is what a served model would emit.
std::vector<int32_t> word_ids(const Tokenizer& tok) {
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    const int32_t one[] = {id};
    auto text = tok.decode(one);
    if (!text || text->size() < 3 || text->size() > 11 || (*text)[0] != ' ') continue;
    if (std::all_of(text->begin() + 1, text->end(), [](char c) { return c >= 'a' && c <= 'z'; })) ids.push_back(id);
  }
  return ids;
}

// `n` ids drawn by the hook's KGW choose over a candidate list (the llama.cpp shape) of `candidates` with logits
// from a fixed-seed stand-in model; with `hook` null, drawn from the same model with no watermark.
std::vector<int32_t> generate(const telltale::Hook* hook, const std::vector<int32_t>& candidates, uint64_t seed,
                              size_t n) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> logit(0.0f, 2.0f);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<int32_t> out, ids(64);
  std::vector<float> logits(64);
  std::optional<telltale::SeqState> seq;
  if (hook) seq.emplace(std::move(hook->new_sequence(0, seed)).value());
  for (size_t step = 0; step < n; ++step) {
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = candidates[rng() % candidates.size()];
      logits[i] = logit(rng);
    }
    telltale::CandidatesView view{ids.data(), logits.data(), ids.size()};
    size_t chosen = 0;
    if (hook) {
      REQUIRE(hook->choose_candidates(*seq, view, uniform(rng), &chosen).is_ok());
      seq->accept(ids[chosen]);
    } else {
      std::vector<double> w(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) w[i] = std::exp(static_cast<double>(logits[i]));
      chosen = std::discrete_distribution<size_t>(w.begin(), w.end())(rng);
    }
    out.push_back(ids[chosen]);
  }
  return out;
}

}  // namespace

TEST_CASE("text watermarked at a GGUF vocabulary's size is detected with that vocabulary, and plain text is not",
          "[tokenizer][gguf][cli][acceptance]") {
  if (!telltale::test::have_llama_vocabularies()) {
    SUCCEED("llama.cpp not found");
    return;
  }
  telltale::test::ScratchDir dir("gguf-detect");
  const std::string tt = telltale::test::telltale_binary();
  REQUIRE(run_command(tt + " keygen --out " + dir.path("k.key")).exit_code == 0);
  REQUIRE(run_command(tt + " keygen --signing --out " + dir.path("sign.key")).exit_code == 0);
  auto keys = telltale::read_key_file(dir.path("k.key"));
  REQUIRE(keys.is_ok());
  for (const auto& [name, vocab] :
       std::vector<std::pair<std::string, uint32_t>>{{"llama-bpe", 128256}, {"qwen2", 151936}}) {
    INFO(name);
    const std::string path = telltale::test::llama_vocab_path(name);
    const Tokenizer& tok = telltale::test::loaded_tokenizer(path);
    REQUIRE(static_cast<uint32_t>(tok.vocab_size()) == vocab);
    const auto candidates = word_ids(tok);
    REQUIRE(candidates.size() > 1000);
    auto hook = telltale::Hook::create(*keys, telltale::default_params(telltale::SchemeKind::kKgw, vocab));
    REQUIRE(hook.is_ok());
    const auto marked = generate(&*hook, candidates, 11, 300);
    const auto plain = generate(nullptr, candidates, 11, 300);
    const std::string marked_text = *tok.decode(marked), plain_text = *tok.decode(plain);
    dir.file(name + "-wm.txt", marked_text);
    dir.file(name + "-plain.txt", plain_text);

    // Decoding then re-encoding is not always the identity for BPE (a word may re-encode as other merges).
    std::vector<int32_t> again;
    REQUIRE(tok.encode(marked_text, again).is_ok());
    const double kept =
        static_cast<double>(telltale::input::ids_kept(marked, again)) / static_cast<double>(marked.size());
    INFO("ids kept through decode -> encode: " << kept);
    CHECK(kept > 0.9);

    const std::string detect = tt + " detect --key " + dir.path("k.key") + " --tokenizer " + shell_quote(path) +
                               " --vocab-size " + std::to_string(vocab) + " ";
    const auto wm = run_command(detect + "--bundle " + dir.path(name + "-case") + " --signing-key " +
                                dir.path("sign.key") + " " + dir.path(name + "-wm.txt"));
    INFO(wm.err);
    REQUIRE(wm.exit_code == 0);
    CHECK(wm.err.rfind("telltale: evidence bundle written to ", 0) == 0);  // that line only: no llama.cpp log
    CHECK(wm.err.find('\n') == wm.err.size() - 1);
    const auto result = nlohmann::json::parse(wm.out);
    CHECK(result["detected"] == true);
    CHECK(result["p_value"].get<double>() < 1e-6);
    const auto record = nlohmann::json::parse(telltale::test::slurp(dir.path(name + "-case/record.json")));
    CHECK(record["tokenizer"]["kind"] == "gguf");
    CHECK(record["tokenizer"]["sha256"] == tok.sha256_hex());
    CHECK(record["tokenizer"]["vocab_size"] == vocab);
    const auto verify = run_command(tt + " report verify " + dir.path(name + "-case") + " --pubkey " +
                                    dir.path("sign.key.pub") + " --key " + dir.path("k.key") + " --allow-dir " +
                                    shell_quote(telltale::test::kLlamaModelsDir) + " --allow-dir " + dir.str());
    INFO(verify.out << verify.err);
    CHECK(verify.exit_code == 0);

    const auto no = run_command(detect + dir.path(name + "-plain.txt"));
    INFO(no.err);
    CHECK(no.exit_code == 1);
    CHECK(nlohmann::json::parse(no.out)["detected"] == false);
  }
}
