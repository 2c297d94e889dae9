// llama.cpp GGUF vocabularies as the verifier's tokenizer: picked by file type, recorded with their kind and SHA-256,
// and every bad file (not a tokenizer, truncated, a GGUF without a vocabulary, another vocabulary size, another hash)
// refused with one line and exit 2, with llama.cpp's own log kept off the terminal.
#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "input/tokenizer.hpp"
#include "run_command.hpp"
#include "tokenizer_test_support.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::input::Tokenizer;
using telltale::input::TokenizerKind;
using telltale::test::run_command;
using telltale::test::ScratchDir;
using telltale::test::shell_quote;

// A minimal GGUF v3 file: the magic, version 3, no tensors, and `kv` key/value pairs (string values only).
std::string tiny_gguf(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out = "GGUF";
  const auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  const auto u64 = [&](uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); };
  const auto str = [&](const std::string& s) {
    u64(s.size());
    out += s;
  };
  u32(3);
  u64(0);
  u64(kv.size());
  for (const auto& [key, value] : kv) {
    str(key);
    u32(8);  // GGUF_TYPE_STRING
    str(value);
  }
  return out;
}

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

}  // namespace

TEST_CASE("a file starting with GGUF is read as a llama.cpp vocabulary, anything else as SentencePiece",
          "[tokenizer][gguf]") {
  CHECK(telltale::input::tokenizer_file_kind("GGUF\x03") == TokenizerKind::kGguf);
  CHECK(telltale::input::tokenizer_file_kind("\x0A\x0B") == TokenizerKind::kSentencePiece);
  CHECK(telltale::input::tokenizer_file_kind("GG") == TokenizerKind::kSentencePiece);
  const Tokenizer& spm = telltale::test::loaded_tokenizer(telltale::test::model_file("tok512.model"));
  CHECK(spm.kind() == TokenizerKind::kSentencePiece);
  CHECK(std::string(spm.kind_name()) == "sentencepiece");
  CHECK(spm.vocab_size() == 512);
}

TEST_CASE("a GGUF vocabulary loads with its kind, its size and the SHA-256 of the whole file", "[tokenizer][gguf]") {
  if (!telltale::test::have_llama_vocabularies()) {
    SUCCEED("llama.cpp not found: the refusal is tested instead");
    return;
  }
  for (const auto& [name, size] : std::vector<std::pair<std::string, int32_t>>{
           {"llama-bpe", 128256}, {"qwen2", 151936}, {"gpt-2", 50257}, {"llama-spm", 32000}}) {
    const std::string path = telltale::test::llama_vocab_path(name);
    const Tokenizer& tok = telltale::test::loaded_tokenizer(path);
    INFO(name);
    CHECK(tok.kind() == TokenizerKind::kGguf);
    CHECK(std::string(tok.kind_name()) == "gguf");
    CHECK(tok.vocab_size() == size);
    CHECK(tok.sha256_hex() == *telltale::input::sha256_file_hex(path));
  }
  // A whole model (weights and all) is read for its vocabulary only.
  const Tokenizer& model = telltale::test::loaded_tokenizer(telltale::test::model_file("stories260K-v3.gguf"));
  CHECK(model.vocab_size() == 512);
  std::vector<int32_t> gguf_ids, spm_ids;
  REQUIRE(model.encode("Once upon a time, there was a cat.", gguf_ids).is_ok());
  REQUIRE(telltale::test::loaded_tokenizer(telltale::test::model_file("tok512.model"))
              .encode("Once upon a time, there was a cat.", spm_ids)
              .is_ok());
  CHECK(gguf_ids == spm_ids);
}

TEST_CASE("a truncated GGUF, a GGUF without a vocabulary and an empty one are refused with one line",
          "[tokenizer][gguf]") {
  ScratchDir dir("gguf");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"novocab.gguf", tiny_gguf({{"general.architecture", "llama"}})},
      {"none.gguf", tiny_gguf({{"general.architecture", "llama"}, {"tokenizer.ggml.model", "none"}})},
      {"empty.gguf", tiny_gguf({})},
      {"magic-only.gguf", "GGUF"},
  };
  if (telltale::test::have_llama_vocabularies()) {
    const std::string whole = telltale::test::slurp(telltale::test::llama_vocab_path("qwen2"));
    cases.emplace_back("truncated.gguf", whole.substr(0, whole.size() / 2));
    cases.emplace_back("header-only.gguf", whole.substr(0, 24));
  }
  for (const auto& [name, bytes] : cases) {
    dir.file(name, bytes);
    auto tok = Tokenizer::load(dir.path(name));
    INFO(name);
    REQUIRE_FALSE(tok.is_ok());
    const std::string msg = tok.status().message();
    INFO(msg);
    CHECK(msg.find(dir.path(name)) == 0);
    CHECK(msg.find('\n') == std::string::npos);
    if (telltale::input::gguf_tokenizers_supported()) {
      CHECK((msg.find("vocabulary") != std::string::npos || msg.find("GGUF") != std::string::npos));
    } else {
      CHECK(msg.find("built without llama.cpp") != std::string::npos);
    }
  }
}

TEST_CASE("detect refuses a bad GGUF, another vocabulary size and another hash with one line and exit 2",
          "[tokenizer][gguf][cli]") {
  ScratchDir dir("gguf");
  const std::string tt = telltale::test::telltale_binary();
  REQUIRE(run_command(tt + " keygen --out " + dir.path("k.key")).exit_code == 0);
  dir.file("doc.txt", "Once upon a time there was a little girl who liked to play.\n");
  dir.file("novocab.gguf", tiny_gguf({{"general.architecture", "llama"}}));
  dir.file("not-a-tokenizer.gguf", "this is plain text, not a tokenizer at all\n");
  const std::string base = tt + " detect --key " + dir.path("k.key") + " ";
  const auto refused = [&](const std::string& args, const std::string& needle) {
    const auto r = run_command(base + args + " " + dir.path("doc.txt"));
    INFO(args << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(one_line(r.err));
    CHECK(r.err.rfind("telltale: error: ", 0) == 0);
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(r.out.empty());
  };
  refused("--tokenizer " + dir.path("novocab.gguf"), "novocab.gguf");
  refused("--tokenizer " + dir.path("not-a-tokenizer.gguf"), "not a SentencePiece model");
  if (!telltale::test::have_llama_vocabularies()) return;
  const std::string bpe = telltale::test::llama_vocab_path("llama-bpe");
  const std::string whole = telltale::test::slurp(bpe);
  dir.file("truncated.gguf", whole.substr(0, whole.size() - 1000));
  refused("--tokenizer " + dir.path("truncated.gguf"), "truncated.gguf");
  refused("--tokenizer " + shell_quote(bpe) + " --vocab-size 151936", "not the key's 151936");
  refused("--tokenizer " + shell_quote(bpe) + " --expect-tokenizer-sha256 " + std::string(64, 'a'),
          "is not the expected");
  const std::string sha = *telltale::input::sha256_file_hex(bpe);
  const auto ok = run_command(base + "--tokenizer " + shell_quote(bpe) + " --vocab-size 128256 " +
                              "--expect-tokenizer-sha256 " + sha + " --allow-empty " + dir.path("doc.txt"));
  INFO(ok.err);
  CHECK(ok.exit_code == 1);  // read and tested; a dozen unwatermarked tokens are not detected
  CHECK(ok.err.empty());     // nothing from llama.cpp's log
}

TEST_CASE("keyinfo publishes a GGUF tokenizer's kind, SHA-256 and vocabulary size", "[tokenizer][gguf][cli]") {
  if (!telltale::test::have_llama_vocabularies()) return;
  ScratchDir dir("gguf");
  const std::string tt = telltale::test::telltale_binary();
  REQUIRE(run_command(tt + " keygen --out " + dir.path("k.key")).exit_code == 0);
  const std::string qwen = telltale::test::llama_vocab_path("qwen2");
  const auto r = run_command(tt + " keyinfo --key " + dir.path("k.key") + " --tokenizer " + shell_quote(qwen));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["tokenizer"]["kind"] == "gguf");
  CHECK(j["tokenizer"]["sha256"] == *telltale::input::sha256_file_hex(qwen));
  CHECK(j["tokenizer"]["vocab_size"] == 151936);
  CHECK(j["configuration"].get<std::string>().find("151936") != std::string::npos);
}

TEST_CASE("truncated and corrupted GGUF vocabularies are refused, even those llama.cpp would abort on",
          "[tokenizer][gguf]") {
  if (!telltale::test::have_llama_vocabularies()) return;
  ScratchDir dir("gguf-corrupt");
  const std::string whole = telltale::test::slurp(telltale::test::llama_vocab_path("gpt-2"));
  std::vector<std::string> variants;
  for (size_t cut : {size_t{5}, size_t{23}, size_t{24}, size_t{100}, size_t{4096}, whole.size() / 3, whole.size() - 1})
    variants.push_back(whole.substr(0, cut));
  // Four random bytes in the header and metadata, from a fixed seed; the variant at i = 93 names a token twice,
  // on which llama.cpp stops the process (GGML_ASSERT in llama_vocab::impl::load).
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    std::string bytes = whole;
    for (int k = 0; k < 4; ++k) bytes[rng() % 4096] = static_cast<char>(rng());
    if (i % 10 == 3) variants.push_back(std::move(bytes));
  }
  size_t stopped = 0;
  for (size_t i = 0; i < variants.size(); ++i) {
    const std::string path = dir.file("v" + std::to_string(i) + ".gguf", variants[i]);
    auto tok = Tokenizer::load(path);
    INFO("variant " << i);
    REQUIRE_FALSE(tok.is_ok());
    CHECK(tok.status().message().find('\n') == std::string::npos);
    stopped += tok.status().message().find("llama.cpp stops on it") != std::string::npos;
  }
  CHECK(stopped >= 1);
}
