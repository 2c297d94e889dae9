// The GGUF tokenizer is llama.cpp's, exactly: every reference tokenization shipped with the llama.cpp release
// (models/ggml-vocab-*.gguf.inp / .out, the format of its tests/test-tokenizer-0.cpp) comes out of telltale's
// interface id for id, and text -> ids -> text gives the text back wherever the vocabulary can represent it.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "input/utf8.hpp"
#include "tokenizer_test_support.hpp"

namespace {

using telltale::input::Tokenizer;

struct Reference {
  std::string text;
  std::vector<int32_t> ids;
};

// The .inp file holds the texts separated by "\n__ggml_vocab_test__\n"; the .out file one line per text, the ids
// separated by spaces (with surrounding spaces to trim).
std::vector<Reference> read_reference(const std::string& vocab_path) {
  const std::string inp = telltale::test::slurp(vocab_path + ".inp");
  const std::string out = telltale::test::slurp(vocab_path + ".out");
  static constexpr std::string_view kSep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t next = inp.find(kSep, pos);
    texts.push_back(inp.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + kSep.size();
  }
  std::vector<Reference> refs;
  size_t line_start = 0;
  for (const std::string& text : texts) {
    const size_t line_end = out.find('\n', line_start);
    REQUIRE(line_end != std::string::npos);
    Reference r{text, {}};
    const std::string line = out.substr(line_start, line_end - line_start);
    for (size_t p = 0; p < line.size();) {
      const size_t q = line.find_first_not_of(' ', p);
      if (q == std::string::npos) break;
      const size_t e = std::min(line.find(' ', q), line.size());
      r.ids.push_back(std::stoi(line.substr(q, e - q)));
      p = e;
    }
    refs.push_back(std::move(r));
    line_start = line_end + 1;
  }
  REQUIRE(line_start == out.size());  // as many lines as texts
  return refs;
}

// The tokenizers whose decoding gives back exactly the text they encoded: byte-level BPE keeps every byte, an SPM
// vocabulary with byte fallback too. Not by design: tok512 folds runs of spaces and newlines (SentencePiece's
// remove_extra_whitespaces) and has no byte fallback (a character outside its 512 pieces decodes as " ⁇ "); falcon's
// vocabulary has no token for the control bytes U+0001..U+0007, which it drops.
bool round_trips(const std::string& name, const std::string& text) {
  if (name == "tok512") return false;
  if (name == "ggml-vocab-falcon") return text.find_first_of("\x01\x02\x03\x07") == std::string::npos;
  return true;
}

// The encoder-only vocabularies, which no generator samples from: WordPiece (bert-bge) lowercases and splits off
// punctuation, the unigram model (nomic-bert-moe) normalizes, and both turn characters they lack into an unknown
// token that decodes to nothing. Neither round trip is theirs to keep; the reference tokenizations still are.
bool generative(const std::string& name) {
  return name != "ggml-vocab-bert-bge" && name != "ggml-vocab-nomic-bert-moe";
}

}  // namespace

TEST_CASE("every reference tokenization shipped with llama.cpp is reproduced, cached and uncached",
          "[tokenizer][gguf][exact]") {
  const auto names = telltale::test::llama_vocab_names();
  if (!telltale::test::have_llama_vocabularies()) {
    SUCCEED("llama.cpp not found");
    return;
  }
  REQUIRE(names.size() >= 19);
  size_t checked_vocabs = 0, checked_texts = 0;
  std::vector<int32_t> cached, uncached;
  for (const std::string& name : names) {
    const std::string path = telltale::test::llama_vocab_path(name);
    if (!std::filesystem::exists(path + ".inp")) continue;  // gpt-neox, aquila, ...: shipped without references
    Tokenizer& tok = telltale::test::loaded_tokenizer(path);
    for (const Reference& ref : read_reference(path)) {
      INFO(name << ": '" << ref.text << "'");
      REQUIRE(tok.encode_uncached(ref.text, uncached).is_ok());
      CHECK(uncached == ref.ids);
      REQUIRE(tok.encode(ref.text, cached).is_ok());
      CHECK(cached == ref.ids);
      ++checked_texts;
    }
    ++checked_vocabs;
  }
  CHECK(checked_vocabs >= 15);
  CHECK(checked_texts >= 15 * 30);
}

TEST_CASE("text -> ids -> text gives the text back on the corpora and adversarial text", "[tokenizer][gguf][exact]") {
  std::vector<std::string> paths = {telltale::test::model_file("tok512.model")};
  for (const std::string& name : telltale::test::llama_vocab_names())
    paths.push_back(telltale::test::llama_vocab_path(name));
  auto texts = telltale::test::adversarial_texts();
  for (auto& [name, corpus] : telltale::test::shared_corpora()) texts.push_back(corpus.substr(0, 200000));
  std::vector<int32_t> ids, again;
  for (const std::string& path : paths) {
    const Tokenizer& tok = telltale::test::loaded_tokenizer(path);
    const std::string name = std::filesystem::path(path).stem().string();
    if (!generative(name)) continue;
    for (const std::string& text : texts) {
      INFO(name << ": '" << text.substr(0, 200) << "'");
      REQUIRE(tok.encode(text, ids).is_ok());
      auto back = tok.decode(ids);
      REQUIRE(back.is_ok());
      // Always: ids -> text -> ids is stable, so a text decoded from ids is re-read as those ids' own text.
      REQUIRE(tok.encode(*back, again).is_ok());
      CHECK(again == ids);
      if (round_trips(name, text)) CHECK(*back == text);
    }
  }
}

TEST_CASE("invalid UTF-8 is refused by every kind of tokenizer, cached or not, never tokenized",
          "[tokenizer][gguf][exact]") {
  std::vector<std::string> paths = {telltale::test::model_file("tok512.model")};
  if (telltale::test::have_llama_vocabularies())
    for (const char* name : {"llama-bpe", "qwen2", "llama-spm"})
      paths.push_back(telltale::test::llama_vocab_path(name));
  std::vector<int32_t> ids;
  for (const std::string& path : paths) {
    Tokenizer& tok = telltale::test::loaded_tokenizer(path);
    for (const std::string& bad : {std::string("ok \xC3"), std::string("\xFF\xFE"), std::string("a \xED\xA0\x80 b"),
                                   std::string("over\xC0\xAFlong")}) {
      INFO(path << ": " << telltale::input::printable(bad));
      CHECK_FALSE(tok.encode(bad, ids).is_ok());
      CHECK_FALSE(tok.encode_uncached(bad, ids).is_ok());
    }
  }
}
