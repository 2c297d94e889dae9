// `telltale attribute` as scripts use it: detect's inputs and options, JSON lines per document then the summary,
// exit 0 attributed / 1 none / 2 error, and one-line errors for bad registries and a wrong scheme.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "attrib_test_inputs.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::ScratchDir;

std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

telltale::test::CommandResult tt(const ScratchDir& dir, const std::string& args) {
  return telltale::test::run_command("cd " + dir.str() + " && " + telltale::test::telltale_binary() + " " + args);
}

}  // namespace

TEST_CASE("attribute names the accounts that generated the texts, per document and for the corpus",
          "[attribution][cli]") {
  ScratchDir dir("cli-attribute");
  telltale::test::write_fixed_key(0x4b, dir.path("k.key"));
  dir.file("texts.jsonl",
           telltale::test::fingerprinted_texts([&dir](const std::string& c) { return tt(dir, c); }, 400));
  dir.file("reg.txt", telltale::test::registry_text(1000, 3000));
  dir.file("human.txt",
           "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
           "want of a wife. However little known the feelings or views of such a man may be on his first entering "
           "a neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is "
           "considered the rightful property of some one or other of their daughters.");
  const std::string attribute = "attribute -q -k k.key -t " + tok() + " -r reg.txt ";

  const auto r = tt(dir, attribute + "-f completion --per-doc texts.jsonl");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<nlohmann::json> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 4);
  const std::vector<uint32_t> truth = {77, 77, 4000000000u};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(lines[i].at("accounts").at(0).at("account").get<uint32_t>() == truth[i]);
    for (const auto& id : lines[i].at("attributed")) CHECK(id.get<uint32_t>() == truth[i]);
    CHECK(lines[i].at("zero_bit").at("detected").get<bool>());
  }
  const auto& summary = lines[3];
  CHECK(summary.at("attributed").get<bool>());
  CHECK(summary.at("accounts_tested").get<size_t>() == 2002);
  CHECK(summary.at("hypotheses").get<uint64_t>() == 4 * 2002);
  std::set<uint32_t> accused;
  for (const auto& x : summary.at("accusations")) accused.insert(x.at("account").get<uint32_t>());
  CHECK_FALSE(accused.empty());
  for (uint32_t id : accused) CHECK((id == 77 || id == 4000000000u));
  CHECK(summary.at("zero_bit").at("detected").get<bool>());
  CHECK(summary.at("format") == "telltale-attribute-1");

  const auto human = tt(dir, attribute + "human.txt");
  CHECK(human.exit_code == 1);
  CHECK_FALSE(nlohmann::json::parse(human.out).at("attributed").get<bool>());
}

TEST_CASE("attribute refuses bad registries and options with one line and exit 2", "[attribution][cli]") {
  ScratchDir dir("cli-attribute-bad");
  REQUIRE(tt(dir, "keygen --out k.key").exit_code == 0);
  dir.file("t.txt", "Once upon a time there was a cat.");
  dir.file("dup.txt", "5\n6\n5\n");
  dir.file("big.txt", "5\n4294967296\n");
  dir.file("none.txt", "# empty\n");
  const std::string base = "attribute -q -k k.key -t " + tok() + " ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"-r dup.txt t.txt", "telltale: error: dup.txt:3: duplicate account id 5 (first on line 1)"},
      {"-r big.txt t.txt", "telltale: error: big.txt:2: account id '4294967296' is out of range"},
      {"-r none.txt t.txt", "telltale: error: none.txt: the registry holds no account id"},
      {"-r missing.txt t.txt", "telltale: error: missing.txt: cannot open the account registry"},
      {"-r dup.txt --scheme kgw t.txt", "telltale: error: attribute needs --scheme fingerprint"},
      {"-r none.txt --no-dedup t.txt", "telltale: error: attribute always scores each context once"},
  };
  for (const auto& [args, expected] : cases) {
    const auto r = tt(dir, base + args);
    INFO(args << " -> " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind(expected, 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}
