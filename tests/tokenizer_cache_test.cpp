// The exact piece cache: bit-identical ids to the uncached tokenizer on every shared corpus and the adversarial text,
// for every shipped vocabulary whose rules allow the cut, and off (with its reason) for those whose rules do not.
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "input/cached_tokenizer.hpp"
#include "input/tokenizer.hpp"
#include "tokenizer_test_support.hpp"

namespace {

using telltale::input::Tokenizer;

std::vector<std::string> pieces_of(std::string_view text) {
  std::vector<std::string> out;
  telltale::input::for_each_piece(text, [&](size_t b, size_t e) { out.emplace_back(text.substr(b, e - b)); });
  return out;
}

// The documents of a corpus as the verifier would read them one paragraph at a time, plus the whole corpus as one.
std::vector<std::string_view> paragraphs(std::string_view corpus) {
  std::vector<std::string_view> out;
  for (size_t pos = 0; pos < corpus.size();) {
    size_t end = corpus.find("\n\n", pos);
    if (end == std::string_view::npos) end = corpus.size();
    out.push_back(corpus.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("the piece cut falls only before a space between two ASCII letters, and covers the text",
          "[tokenizer][cache]") {
  CHECK(pieces_of("abc def") == std::vector<std::string>{"abc", " def"});
  CHECK(pieces_of("a b c") == std::vector<std::string>{"a", " b", " c"});
  CHECK(pieces_of("abc  def") == std::vector<std::string>{"abc  def"});          // two spaces: never cut
  CHECK(pieces_of("abc, def 1 x") == std::vector<std::string>{"abc, def 1 x"});  // punctuation or digit beside
  CHECK(pieces_of(" abc def ") == std::vector<std::string>{" abc", " def "});
  CHECK(pieces_of("é f") == std::vector<std::string>{"é f"});  // only ASCII letters
  CHECK(pieces_of("").empty());
  CHECK(pieces_of("x") == std::vector<std::string>{"x"});
}

TEST_CASE("the cache gives the uncached ids bit for bit on every corpus and adversarial text, for every vocabulary",
          "[tokenizer][cache][exact]") {
  std::vector<std::string> paths = {telltale::test::model_file("tok512.model")};
  for (const std::string& name : telltale::test::llama_vocab_names())
    paths.push_back(telltale::test::llama_vocab_path(name));
  const auto corpora = telltale::test::shared_corpora();
  const auto adversarial = telltale::test::adversarial_texts();
  std::vector<int32_t> cached, uncached;
  std::vector<std::string> cache_on;
  for (const std::string& path : paths) {
    Tokenizer& tok = telltale::test::loaded_tokenizer(path);
    if (!tok.piece_cache()) {
      CHECK_FALSE(tok.piece_cache_off_reason().empty());  // off only with a reason the bench and docs report
      continue;
    }
    cache_on.push_back(std::filesystem::path(path).filename().string());
    INFO(path);
    for (const std::string& text : adversarial) {
      INFO("'" << text << "'");
      REQUIRE(tok.encode(text, cached).is_ok());
      REQUIRE(tok.encode_uncached(text, uncached).is_ok());
      CHECK(cached == uncached);
    }
    for (const auto& [name, corpus] : corpora) {
      INFO(name);
      REQUIRE(tok.encode(corpus, cached).is_ok());
      REQUIRE(tok.encode_uncached(corpus, uncached).is_ok());
      CHECK(cached.size() == uncached.size());
      CHECK(cached == uncached);
      size_t differing = 0;
      for (std::string_view para : paragraphs(corpus)) {
        REQUIRE(tok.encode(para, cached).is_ok());
        REQUIRE(tok.encode_uncached(para, uncached).is_ok());
        differing += cached != uncached;
      }
      CHECK(differing == 0);
    }
  }
  // The production vocabularies the bench measures must keep their cache: a change that turns it off fails here.
  if (telltale::test::have_llama_vocabularies()) {
    for (const char* name :
         {"ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf"}) {
      INFO(name);
      CHECK(std::find(cache_on.begin(), cache_on.end(), name) != cache_on.end());
    }
  }
}

TEST_CASE("threads sharing one tokenizer each keep their own cache and get the same ids", "[tokenizer][cache]") {
  const std::string path = telltale::test::have_llama_vocabularies() ? telltale::test::llama_vocab_path("llama-bpe")
                                                                     : telltale::test::model_file("tok512.model");
  Tokenizer& tok = telltale::test::loaded_tokenizer(path);
  const std::string text = telltale::test::shared_corpora()[1].second.substr(0, 100000);
  std::vector<int32_t> expected;
  REQUIRE(tok.encode_uncached(text, expected).is_ok());
  std::vector<std::vector<int32_t>> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) threads.emplace_back([&, i] { (void)tok.encode(text, got[i]); });
  for (auto& t : threads) t.join();
  for (const auto& ids : got) CHECK(ids == expected);
}

TEST_CASE("turning the cache off and on changes no id", "[tokenizer][cache]") {
  Tokenizer& tok = telltale::test::loaded_tokenizer(telltale::test::model_file("tok512.model"));
  const bool was = tok.piece_cache();
  std::vector<int32_t> a, b;
  REQUIRE(tok.encode("One day a little dog saw a big red ball in the park.", a).is_ok());
  tok.set_piece_cache(false);
  CHECK_FALSE(tok.piece_cache());
  REQUIRE(tok.encode("One day a little dog saw a big red ball in the park.", b).is_ok());
  tok.set_piece_cache(was);
  CHECK(a == b);
}
