// `telltale radioactivity` as scripts use it: filter, predict and score end to end, JSON on stdout, exit codes 0/1/2,
// provenance of every scored tuple, a re-run from the kept files giving the same report, one-line errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "radio_test_inputs.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::ScratchDir;

using telltale::test::slurp;

std::string model() { return std::string(telltale::test::kModelDir) + "/stories260K.bin"; }
std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

struct Run {
  int rc = -1;
  std::string out;
  std::string err;
};

// `telltale args` run in `dir`.
Run run(const ScratchDir& dir, const std::string& args) {
  const auto r =
      telltale::test::run_command("cd " + dir.str() + " && " + telltale::test::telltale_binary() + " " + args);
  return {r.exit_code, r.out, r.err};
}

std::string score(const std::string& rest) { return "radioactivity score -k k.key -t " + tok() + " " + rest; }

}  // namespace

TEST_CASE("radioactivity filter, predict and score run end to end with exit codes 0/1/2", "[radio][cli]") {
  ScratchDir dir("radio-cli");
  // Generated text is tested under fixed keys: the same stories every run, not a fresh key's random draw.
  telltale::test::write_fixed_key(0x43, dir.path("k.key"));
  telltale::test::write_fixed_key(0x44, dir.path("other.key"));
  const Run gen =
      run(dir, "generate -m " + model() + " -t " + tok() + " -n 200 --top-p 1 --jsonl --count 4 --key k.key --seed 3");
  REQUIRE(gen.rc == 0);
  dir.file("wm.jsonl", gen.out);

  const Run filter = run(dir, "radioactivity filter -t " + tok() + " -f completion --out t.ttcf wm.jsonl");
  INFO(filter.err);
  REQUIRE(filter.rc == 0);
  const auto fj = nlohmann::json::parse(filter.out);
  CHECK(fj.at("window_size").get<int>() == 4);
  CHECK(fj.at("false_positive_rate").get<double>() < 1e-2);
  CHECK(run(dir, "radioactivity filter -t " + tok() + " -f completion --out t.ttcf wm.jsonl").rc == 2);  // exists

  // The reference model reads the watermarked stories: an innocent suspect (it never trained on the key's text).
  const Run pred = run(
      dir, "radioactivity predict -m " + model() + " -t " + tok() + " -f completion --top-k 2 --out p.jsonl wm.jsonl");
  INFO(pred.err);
  REQUIRE(pred.rc == 0);
  const Run innocent = run(dir, score("--predictions p.jsonl --provenance prov.jsonl"));
  INFO(innocent.err);
  REQUIRE(innocent.rc == 1);
  const auto ij = nlohmann::json::parse(innocent.out);
  CHECK_FALSE(ij.at("detected").get<bool>());
  CHECK(ij.at("scored_tuples").get<uint64_t>() > 500);
  CHECK(ij.at("mode").get<std::string>() == "open (reading)");
  CHECK(innocent.out.find(slurp(dir.path("k.key"))) == std::string::npos);
  // Provenance: one line per scored tuple; a second run from the kept files gives the same report.
  std::istringstream prov(slurp(dir.path("prov.jsonl")));
  std::string line;
  uint64_t lines = 0;
  while (std::getline(prov, line)) {
    const auto t = nlohmann::json::parse(line);
    CHECK(t.at("position").get<int>() >= 4);
    ++lines;
  }
  CHECK(lines == ij.at("scored_tuples").get<uint64_t>());
  auto prov_sha256 = telltale::input::sha256_file_hex(dir.path("prov.jsonl"));
  REQUIRE(prov_sha256.is_ok());
  CHECK(ij.at("provenance") == "prov.jsonl");
  CHECK(ij.at("provenance_sha256") == *prov_sha256);
  CHECK(run(dir, score("--predictions p.jsonl --provenance prov.jsonl")).rc == 2);  // never overwritten
  const Run again = run(dir, score("--predictions p.jsonl --top-k 2"));
  const Run again2 = run(dir, score("--predictions p.jsonl --top-k 2"));
  CHECK(again.out == again2.out);
  CHECK(nlohmann::json::parse(again.out).at("scored_tuples").get<uint64_t>() ==
        2 * nlohmann::json::parse(again.out).at("counts").at("scored_positions").get<uint64_t>());

  // A suspect that memorised the watermarked stories (its prediction is the teacher's next id) is detected.
  dir.file("memorised.jsonl", telltale::test::memorised_predictions(slurp(dir.path("p.jsonl"))));
  const Run memorised = run(dir, score("--predictions memorised.jsonl --filter t.ttcf"));
  INFO(memorised.err);
  CHECK(memorised.rc == 0);
  CHECK(nlohmann::json::parse(memorised.out).at("log10_p_value").get<double>() < -6);
  CHECK(run(dir, "radioactivity score -k other.key -t " + tok() + " --predictions memorised.jsonl").rc == 1);

  // Closed mode: an answer log whose answers are the watermarked completions.
  dir.file("answers.jsonl", telltale::test::answers_from_generations(slurp(dir.path("wm.jsonl"))));
  const Run closed = run(dir, score("--answers answers.jsonl --filter t.ttcf"));
  INFO(closed.err);
  CHECK(closed.rc == 0);
  const auto cj = nlohmann::json::parse(closed.out);
  CHECK(cj.at("mode").get<std::string>() == "closed (answers)");
  CHECK(cj.at("filter").at("false_positive_rate").get<double>() < 1e-2);

  // Errors: one line, exit 2.
  auto refused = [&dir](const std::string& args, const std::string& expect) {
    const Run r = run(dir, args);
    INFO(args << "\n" << r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find(expect) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  };
  dir.file("bad.jsonl", slurp(dir.path("p.jsonl")).substr(0, 80) + "\n{\"ids\":[1]}\n");
  refused(score("--predictions bad.jsonl"), "bad.jsonl:");
  refused(score("--predictions p.jsonl --answers answers.jsonl"), "exactly one of");
  refused(score("--predictions p.jsonl --filter t.ttcf --context-width 3"), "holds 4-token windows");
  dir.file("notfilter", "hello");
  refused(score("--predictions p.jsonl --filter notfilter"), "bad magic");
  dir.file("badanswers.jsonl", "{\"prompt\":\"a\"}\n");
  refused(score("--answers badanswers.jsonl"), "badanswers.jsonl:1: missing 'response'");
}

TEST_CASE("an answer log is scored in prompt-index order, however its answers came back", "[radio][cli]") {
  ScratchDir dir("radio-order");
  telltale::test::write_fixed_key(0x45, dir.path("k.key"));
  const Run gen =
      run(dir, "generate -m " + model() + " -t " + tok() + " -n 120 --top-p 1 --jsonl --count 6 --key k.key --seed 5");
  REQUIRE(gen.rc == 0);
  // Every answer starts from the one prompt, so their first windows are shared: which answer is walked first decides
  // which of them is scored there (section 1's first-occurrence rule), and the provenance names it.
  std::vector<std::string> lines;
  std::istringstream in(telltale::test::answers_from_generations(gen.out));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 6);
  // The log in `order`, with every answer's prompt index, or all but prompt 0's; scored as log.jsonl in a directory
  // of its own (a record is named after its file), it returns the provenance.
  auto provenance = [&](const std::string& name, const std::vector<size_t>& order, bool index_all) {
    std::filesystem::create_directory(dir.path(name));
    std::string text = "{\"telltale_query_log\":1}\n";
    for (size_t i : order) {
      auto j = nlohmann::json::parse(lines[i]);
      if (index_all || i != 0) j["index"] = i;
      text += j.dump() + "\n";
    }
    dir.file(name + "/log.jsonl", text);
    const auto r = telltale::test::run_command("cd " + dir.path(name) + " && " + telltale::test::telltale_binary() +
                                               " radioactivity score -k ../k.key -t " + tok() +
                                               " --answers log.jsonl --provenance log.prov");
    INFO(name << "\n" << r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 1));
    return slurp(dir.path(name + "/log.prov"));
  };
  const std::vector<size_t> sorted{0, 1, 2, 3, 4, 5}, shuffled{4, 1, 5, 0, 3, 2};
  const std::string in_order = provenance("sorted", sorted, true);
  // Indexed: the same walk, tuple for tuple, each record named by its prompt, in index order.
  CHECK(provenance("shuffled", shuffled, true) == in_order);
  CHECK(in_order.find("log.jsonl@prompt0") < in_order.find("log.jsonl@prompt1"));
  // A log where one answer has no index keeps its own order: the shuffled one walks another way, so the order does
  // change what is scored here (without it the check above could not fail).
  CHECK(provenance("sorted-mixed", sorted, false) != provenance("shuffled-mixed", shuffled, false));
}
