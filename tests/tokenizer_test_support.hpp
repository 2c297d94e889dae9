// What the tokenizer tests share: llama.cpp's shipped vocabularies (loaded once per test binary), the shared corpora
// and the adversarial texts every tokenizer must round-trip and every cache must reproduce.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "input/gguf_tokenizer.hpp"
#include "input/tokenizer.hpp"
#include "llama_test_paths.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"

namespace telltale::test {

// Whether this build reads GGUF vocabularies (llama.cpp found at configure time, its models beside it).
inline bool have_llama_vocabularies() {
  return input::gguf_tokenizers_supported() && std::string(kLlamaModelsDir) != "";
}

inline std::string llama_vocab_path(const std::string& name) {
  return std::string(kLlamaModelsDir) + "/ggml-vocab-" + name + ".gguf";
}

// Every ggml-vocab-*.gguf of the llama.cpp release, by name ("llama-bpe", "qwen2", ...), sorted.
inline std::vector<std::string> llama_vocab_names() {
  std::vector<std::string> names;
  if (!have_llama_vocabularies()) return names;
  for (const auto& e : std::filesystem::directory_iterator(kLlamaModelsDir)) {
    const std::string file = e.path().filename().string();
    if (file.rfind("ggml-vocab-", 0) == 0 && e.path().extension() == ".gguf")
      names.push_back(file.substr(11, file.size() - 11 - 5));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The tokenizer at `path`, loaded once for the whole test binary (a large vocabulary takes a second to load).
inline input::Tokenizer& loaded_tokenizer(const std::string& path) {
  static std::map<std::string, input::Tokenizer> loaded;
  auto it = loaded.find(path);
  if (it == loaded.end()) {
    auto tok = input::Tokenizer::load(path);
    INFO(path << ": " << (tok ? "" : tok.status().message()));
    REQUIRE(tok.is_ok());
    it = loaded.emplace(path, std::move(*tok)).first;
  }
  return it->second;
}

// The shared corpora (../shared/corpora), whole.
inline std::vector<std::pair<std::string, std::string>> shared_corpora() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* name : {"austen_6novels.txt", "tinyshakespeare.txt"})
    out.emplace_back(name, slurp(std::string(kSharedDir) + "/corpora/" + name));
  return out;
}

// Held-out-style adversarial texts: control characters, long runs of spaces and tabs, emoji (joined, flags, skin
// tones), CJK, combining marks, right-to-left scripts, words cut by single spaces in odd places, contractions.
inline std::vector<std::string> adversarial_texts() {
  std::vector<std::string> t = {
      "a",
      " ",
      "a b",
      " leading space and trailing space ",
      "two  spaces, three   spaces,    four",
      std::string(300, ' ') + "after a long run of spaces" + std::string(257, ' '),
      "tabs\tand\t\ttabs \t mixed\n\n\nnewlines\r\nCRLF\rCR",
      "control \x01\x02\x03\x07\x1b[31m escape \x7f del",
      "emoji 🦙 llama, 😶‍🌫️ joined, 👍🏽 tone, 🇫🇷 flag, ✅ done 🚀🚀🚀",
      "CJK 我想在apple工作1314151天～ 日本語のテキスト 한국어 텍스트",
      "combining e\xCC\x81 vs \xC3\xA9, a\xCC\x8A\xCC\x81 stacked, Zalgo ḧ̵̢e̴l̷l̶o̷",
      "right to left: مرحبا بالعالم and שלום עולם mixed with English",
      "y'all can't won't I'm you're they've we'd it's 'quoted' \"double\"",
      "numbers 3 33 333 3333 33333 1,234,567.89 and 0x1F version 1.2.3",
      "code: for (int i = 0; i < n; ++i) { x[i] += y[i]; }  // comment",
      "Once upon a time there was a little girl named Lily who liked to play in the park with her dog",
      "<|endoftext|> <s> </s> [INST] special-looking text <|im_start|>user",
      "\xE2\x80\x8B zero\xE2\x80\x8Bwidth space, \xC2\xA0nbsp\xC2\xA0here, \xE3\x80\x80ideographic space",
      "ALL CAPS WORDS AND MiXeD CaSe words",
      "word\nword word\tword word.word word,word",
  };
  std::string mixed;
  for (int i = 0; i < 200; ++i)
    mixed += (i % 7 == 0 ? "  " : " ") + std::string(1, static_cast<char>('a' + i % 26)) + (i % 11 == 0 ? "é" : "") +
             (i % 13 == 0 ? "🦙" : "");
  t.push_back(mixed);
  return t;
}

}  // namespace telltale::test
