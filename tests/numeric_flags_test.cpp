// Every numeric flag of `telltale` parsed strictly: a value out of its range, not finite, or written in a way the
// default conversion would misread (a huge number saturated, hex, a sign, an exponent on an integer) is refused with
// one line that gives the allowed range and exit 2; seeds do not wrap; --expected is bounded by the memory at hand;
// digests compare in either case.
#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "run_command.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::ScratchDir;

telltale::test::CommandResult tt(const ScratchDir& dir, const std::string& args) {
  return telltale::test::run_command("cd " + dir.str() + " && " + telltale::test::telltale_binary() + " " + args);
}

std::string model_dir() { return telltale::test::kModelDir; }

void check_refused(const ScratchDir& dir, const std::string& args, const std::string& what) {
  const auto r = tt(dir, args);
  INFO(args << "\n" << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(what) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());
}

uint64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string name, unit;
  uint64_t kib = 0;
  while (in >> name >> kib >> unit)
    if (name == "MemAvailable:") return kib * 1024;
  return 0;
}

const std::string kU64 = "0..18446744073709551615";

}  // namespace

TEST_CASE("numeric flags refuse out-of-range, non-finite and misread values with their range", "[cli][flags]") {
  ScratchDir dir("numeric-flags");
  const std::string gen =
      "generate --no-watermark -m " + model_dir() + "/stories260K.bin -t " + model_dir() + "/tok512.model -n 4 ";
  const std::string det = "detect -k k.key -t " + model_dir() + "/tok512.model ";
  const std::string filter = "radioactivity filter -t " + model_dir() + "/tok512.model -o f.bin ";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {gen + "--seed 100000000000000000000000000", "--seed: must be a whole number in " + kU64},
      {gen + "--seed 18446744073709551616", "--seed: must be a whole number in " + kU64},
      {gen + "--seed 0x10", "--seed: must be a whole number in " + kU64},
      {gen + "--seed ' 7'", "--seed: must be a whole number in " + kU64},
      {gen + "--seed ''", "--seed: must be a whole number in " + kU64},
      {gen + "--account 1e5", "--account: must be a whole number in " + kU64},
      {gen + "--count 0", "--count: must be a whole number in 1..1000000"},
      {gen + "--count 2.5", "--count: must be a whole number in 1..1000000"},
      {gen + "--tokens -5", "--tokens: must be a whole number in 0..1048576"},
      {gen + "--temperature 1e-300", "--temperature: must be a number in [0.01, 100]"},
      {gen + "--temperature inf", "--temperature: must be a number in [0.01, 100]"},
      {gen + "--top-p 0", "--top-p: must be a number in [0.001, 1]"},
      {gen + "--top-p nan", "--top-p: must be a number in [0.001, 1]"},
      {gen + "--skip-repeated 2", "--skip-repeated: must be a whole number in 0..1"},
      {gen + "--skip-repeated -1", "--skip-repeated: must be a whole number in 0..1"},
      {gen + "--delta inf", "--delta: must be a finite decimal number"},
      {gen + "--gamma 0x1p-2", "--gamma: must be a finite decimal number"},
      {gen + "--context-width 99999999999999999999", "--context-width: must be a whole number in " + kU64},
      {det + "--window 100000000000000000000000000 t.txt", "--window: must be a whole number in " + kU64},
      {det + "--threads 0x10 t.txt", "--threads: must be a whole number in 1..1024"},
      {det + "--threads 0 t.txt", "--threads: must be a whole number in 1..1024"},
      {det + "--alpha nan t.txt", "--alpha: must be a number in (0, 1)"},
      {det + "--alpha 1 t.txt", "--alpha: must be a number in (0, 1)"},
      {det + "--expect-tokenizer-sha256 abc t.txt", "--expect-tokenizer-sha256: must be 64 hexadecimal digits"},
      {det + "--expect-key-id " + std::string(64, 'g') + " t.txt", "--expect-key-id: must be 64 hexadecimal digits"},
      {"attribute -k k.key -t " + model_dir() + "/tok512.model -r r.txt --top -3 t.txt", "--top: must not be negative"},
      {"merge --alpha 0 p.partial", "--alpha: must be a number in (0, 1)"},
      {filter + "--fpr 0.6 t.txt", "--fpr: must be a number in (0, 0.5]"},
      {filter + "--fpr 0 t.txt", "--fpr: must be a number in (0, 0.5]"},
      {filter + "--expected 5e10 t.txt", "--expected: must be a whole number in " + kU64},
      {"radioactivity predict -m m.bin -t t.model -o p.tsv --top-k 65 t.txt",
       "--top-k: must be a whole number in 1..64"},
      {"radioactivity score -k k.key -t t.model --answers a.jsonl --alpha -0.5", "--alpha: must be a number in (0, 1)"},
      {"report verify -p s.pub --threads 2000 b", "--threads: must be a whole number in 1..1024"},
      {"keyinfo -k k.key --vocab-size 5000000000", "--vocab-size: must be a whole number in 2..1073741824"},
      {"demo --tokens 10", "--tokens: must be a whole number in 16..400"},
      {"demo --alpha 1e-400", "--alpha: must be a number in (0, 1)"}};
  for (const auto& [args, what] : refused) check_refused(dir, args, what);
}

TEST_CASE("seeds that would wrap past 2^64 - 1 are refused, the last ones that fit are taken", "[cli][flags]") {
  ScratchDir dir("numeric-seeds");
  const std::string gen = "generate --no-watermark -m " + model_dir() + "/stories260K.bin -t " + model_dir() +
                          "/tok512.model -n 4 --jsonl ";
  check_refused(dir, gen + "--seed 18446744073709551615 --count 3",
                "--seed 18446744073709551615 with 3 texts runs past the largest seed");
  check_refused(dir, "demo --seed 18446744073709551614", "give a --seed of at most 18446744073709551613");
  const auto ok = tt(dir, gen + "--seed 18446744073709551613 --count 3");
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  std::vector<uint64_t> seeds;
  std::istringstream lines(ok.out);
  for (std::string line; std::getline(lines, line);) seeds.push_back(nlohmann::json::parse(line).at("seed"));
  CHECK(seeds == std::vector<uint64_t>{18446744073709551613u, 18446744073709551614u, 18446744073709551615u});
}

TEST_CASE("radioactivity filter --expected larger than the memory at hand is refused with what it needs",
          "[cli][flags][radio]") {
  ScratchDir dir("numeric-expected");
  dir.file("t.txt", "Once upon a time there was a little dog.\n");
  const uint64_t available = mem_available_bytes();
  REQUIRE(available > 0);
  // A filter takes about 14.4 bits a context at --fpr 0.001: twice the memory available, but under the 2^40-bit cap
  // where this machine's memory allows (past it, the cap's own message refuses it).
  const double contexts = std::ceil(2.0 * static_cast<double>(available) * 8 / 14.3);
  const bool under_cap = contexts * 14.4 < std::pow(2.0, 40);
  const auto r = tt(dir, "radioactivity filter -t " + model_dir() + "/tok512.model -o f.bin --expected " +
                             std::to_string(static_cast<uint64_t>(contexts)) + " t.txt");
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  if (under_cap) {
    CHECK(r.err.find("contexts: the filter would need") != std::string::npos);
    CHECK(r.err.find(" available (a larger --fpr needs less)") != std::string::npos);
  } else {
    CHECK(r.err.find("needs more than 2^40 bits") != std::string::npos);
  }
  CHECK(!std::filesystem::exists(dir.path("f.bin")));

  const auto small = tt(dir, "radioactivity filter -t " + model_dir() + "/tok512.model -o g.bin --expected 1000 t.txt");
  INFO(small.err);
  CHECK(small.exit_code == 0);
}

TEST_CASE("the tokenizer hash and key id are expected in either case", "[cli][flags]") {
  ScratchDir dir("numeric-hex");
  REQUIRE(tt(dir, "keygen --out k.key").exit_code == 0);
  const auto info = tt(dir, "keyinfo -k k.key -t " + model_dir() + "/tok512.model");
  REQUIRE(info.exit_code == 0);
  const auto j = nlohmann::json::parse(info.out);
  std::string sha = j.at("tokenizer").at("sha256");
  std::string id = j.at("key_id");
  for (char& c : sha) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  dir.file("t.txt", "Once upon a time there was a little dog.\n");
  const auto d = tt(dir, "detect -q -k k.key -t " + model_dir() + "/tok512.model --expect-tokenizer-sha256 " + sha +
                             " --expect-key-id " + id + " t.txt");
  INFO(d.err);
  CHECK(d.exit_code == 1);  // ran: plain text, no watermark
  CHECK(d.err.find("is not the expected") == std::string::npos);
}
