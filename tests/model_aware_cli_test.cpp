// `detect --model` and `attribute --model` as scripts use them: the model-aware test decides, the plain one is kept
// beside it, the weight choice and the model's SHA-256 are stated, and a model that does not fit is refused in one
// line.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "run_command.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::ScratchDir;

std::string tok() { return telltale::test::model_file("tok512.model"); }
std::string stories() { return telltale::test::model_file("stories260K.bin"); }

telltale::test::CommandResult tt(const ScratchDir& dir, const std::string& args) {
  return telltale::test::run_command("cd " + dir.str() + " && " + telltale::test::telltale_binary() + " " + args);
}

// A well-formed llama2.c model (all weights zero) of `vocab` ids: dim 8, one layer, one head, context 16.
std::string small_model(int32_t vocab) {
  const int64_t dim = 8, hidden = 8, layers = 1, seq_len = 16, head_size = dim;
  const int64_t floats = vocab * dim +
                         layers * (dim + dim * dim + 2 * dim * head_size + dim * dim + dim + 3 * dim * hidden) + dim +
                         seq_len * head_size;
  std::string bytes(28 + static_cast<size_t>(floats) * 4, '\0');
  const int32_t header[7] = {8, 8, 1, 1, 1, vocab, 16};
  std::memcpy(bytes.data(), header, sizeof header);
  return bytes;
}

// Writes fixed_key(key_seed) to k.key and one story generated under it to story.txt: the tests below assert detection
// or attribution of that story, so it is the same story every run.
void write_story(const ScratchDir& dir, uint8_t key_seed, const std::string& generate_flags) {
  telltale::test::write_fixed_key(key_seed, dir.path("k.key"));
  const auto g = tt(dir, "generate -m " + stories() + " -t " + tok() + " -k k.key " + generate_flags);
  REQUIRE(g.exit_code == 0);
  dir.file("story.txt", g.out);
}

size_t lines_of(const std::string& s) {
  size_t n = 0;
  for (const char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a model whose vocabulary does not match the tokenizer is refused with one line", "[model-aware][cli]") {
  ScratchDir dir("cli-model-vocab");
  REQUIRE(tt(dir, "keygen --out k.key").exit_code == 0);
  dir.file("small.bin", small_model(100));
  dir.file("t.txt", "Once upon a time there was a little dog.");
  for (const std::string command : {"detect", "attribute -r reg.txt --scheme fingerprint"}) {
    dir.file("reg.txt", "77\n");
    const auto r = tt(dir, command + " -q -k k.key -t " + tok() + " --model small.bin t.txt");
    INFO(command << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(lines_of(r.err) == 1);
    CHECK(r.err.find("vocabulary (100 ids) does not match the tokenizer's (512 ids)") != std::string::npos);
    CHECK(r.out.empty());
  }
  const auto bad_weight = tt(dir, "detect -q -k k.key -t " + tok() + " --model " + stories() + " --weight x t.txt");
  CHECK(bad_weight.exit_code == 2);
  CHECK(lines_of(bad_weight.err) == 1);
  const auto missing = tt(dir, "detect -q -k k.key -t " + tok() + " --model no-such.bin t.txt");
  CHECK(missing.exit_code == 2);
  CHECK(lines_of(missing.err) == 1);
  const auto no_model = tt(dir, "detect -q -k k.key -t " + tok() + " --weight spike-entropy t.txt");
  CHECK(no_model.exit_code == 2);
  CHECK(no_model.err.find("need --model") != std::string::npos);
}

TEST_CASE("detect --model decides on the weighted test and keeps the plain one beside it", "[model-aware][cli]") {
  ScratchDir dir("cli-model-detect");
  write_story(dir, 0x61, "-n 200 --seed 5");
  telltale::test::write_fixed_key(0x71, dir.path("other.key"));
  const auto r = tt(dir, "detect -q -k k.key -k other.key -t " + tok() + " --model " + stories() + " story.txt");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("test") == "model-aware");
  CHECK(j.at("detected").get<bool>());
  CHECK(j.at("plain").contains("log10_p_value"));
  const auto& m = j.at("model_aware");
  CHECK(m.at("weights").at("kind") == "expected-gain");
  CHECK(m.at("weights").at("model_sha256") == "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
  REQUIRE(m.at("analyses").size() == 2);
  // The weights are the model's, not the key's: both keys see the same total weight.
  CHECK(m.at("analyses")[0].at("total_weight") == m.at("analyses")[1].at("total_weight"));
  CHECK(m.at("analyses")[0].at("log10_p_value").get<double>() < -6);
  CHECK(m.at("analyses")[1].at("log10_p_value").get<double>() > -3);

  dir.file("human.txt",
           "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
           "want of a wife. However little known the feelings or views of such a man may be on his first entering "
           "a neighbourhood, this truth is so well fixed in the minds of the surrounding families.");
  const auto h = tt(dir, "detect -q --per-doc -k k.key -t " + tok() + " --model " + stories() + " human.txt");
  INFO(h.err);
  CHECK(h.exit_code == 1);
  CHECK(lines_of(h.out) == 2);
  const auto doc = nlohmann::json::parse(h.out.substr(0, h.out.find('\n')));
  CHECK(doc.contains("model_aware"));
}

TEST_CASE("attribute --model names the account with the weighted account layer", "[model-aware][cli]") {
  ScratchDir dir("cli-model-attribute");
  write_story(dir, 0x62, "--scheme fingerprint --account 77 -n 300 --seed 21");
  std::string registry = "77\n";
  for (int i = 1000; i < 3000; ++i) registry += std::to_string(i) + "\n";
  dir.file("reg.txt", registry);
  const auto r = tt(dir, "attribute -q -k k.key -t " + tok() + " -r reg.txt --model " + stories() + " story.txt");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("model_aware").at("weights").at("kind") == "expected-gain");
  CHECK(j.at("accusations").at(0).at("account") == 77);
}

TEST_CASE("detect --model --bundle records the weight choice and the model's hash, and report verify re-runs it",
          "[model-aware][cli][evidence]") {
  ScratchDir dir("cli-model-bundle");
  write_story(dir, 0x63, "-n 120 --seed 8");
  REQUIRE(tt(dir, "keygen --signing --out sign.key").exit_code == 0);
  // The model is copied beside the inputs, so that a changed model can be shown to be refused.
  dir.file("m.bin", telltale::test::slurp(stories()));
  const auto r = tt(dir, "detect -q -k k.key -t " + tok() + " --model m.bin --weight spike-entropy --bundle b " +
                             "--signing-key sign.key story.txt");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto summary = nlohmann::json::parse(r.out);
  CHECK(summary.at("test") == "model-aware");
  const auto record = nlohmann::json::parse(telltale::test::slurp(dir.str() + "/b/record.json"));
  const auto& m = record.at("recipe").at("model_aware");
  CHECK(m.at("model") == "m.bin");
  CHECK(m.at("weight") == "spike-entropy");
  CHECK(m.at("sha256") == "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
  CHECK(record.at("result").at("model_aware").at("log10_p_value") == summary.at("model_aware").at("log10_p_value"));
  CHECK(record.at("documents").at(0).contains("model_aware"));

  const std::string verify =
      "report verify b --pubkey sign.key.pub --key k.key --allow-dir " + std::string(telltale::test::kModelDir);
  const auto v = tt(dir, verify);
  INFO(v.err);
  REQUIRE(v.exit_code == 0);
  CHECK(nlohmann::json::parse(v.out).at("rerun").get<std::string>().find("identical") != std::string::npos);

  std::string changed = telltale::test::slurp(stories());
  changed[100] = static_cast<char>(changed[100] ^ 1);
  dir.file("m.bin", changed);
  const auto w = tt(dir, verify);
  CHECK(w.exit_code == 2);
  CHECK(w.err.find("m.bin: SHA-256 differs") != std::string::npos);
}
