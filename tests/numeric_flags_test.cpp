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
  const std::string attribute = "attribute -k k.key -t " + model_dir() + "/tok512.model -r r.txt ";
  const std::string whole = "must be a whole number in ", u64 = whole + kU64, number = "must be a number in ";
  const std::string finite = "must be a finite decimal number", hex64 = "must be 64 hexadecimal digits";
  // A command, one of its flags, values the flag refuses, the message, and what follows the value on the line.
  struct Refused {
    std::string command, flag;
    std::vector<std::string> values;
    std::string message, rest;
  };
  const std::vector<Refused> refused = {
      {gen, "--seed", {"100000000000000000000000000", "18446744073709551616", "0x10", "' 7'", "''"}, u64, ""},
      {gen, "--account", {"1e5"}, u64, ""},
      {gen, "--count", {"0", "2.5"}, whole + "1..1000000", ""},
      {gen, "--tokens", {"-5"}, whole + "0..1048576", ""},
      {gen, "--temperature", {"1e-300", "inf"}, number + "[0.01, 100]", ""},
      {gen, "--top-p", {"0", "nan"}, number + "[0.001, 1]", ""},
      {gen, "--skip-repeated", {"2", "-1"}, whole + "0..1", ""},
      {gen, "--delta", {"inf"}, finite, ""},
      {gen, "--gamma", {"0x1p-2"}, finite, ""},
      {gen, "--context-width", {"99999999999999999999"}, u64, ""},
      {det, "--window", {"100000000000000000000000000"}, u64, " t.txt"},
      {det, "--threads", {"0x10", "0"}, whole + "1..1024", " t.txt"},
      {det, "--alpha", {"nan", "1"}, number + "(0, 1)", " t.txt"},
      {det, "--expect-tokenizer-sha256", {"abc"}, hex64, " t.txt"},
      {det, "--expect-key-id", {std::string(64, 'g')}, hex64, " t.txt"},
      {attribute, "--top", {"-3"}, "must not be negative", " t.txt"},
      {"merge ", "--alpha", {"0"}, number + "(0, 1)", " p.partial"},
      {filter, "--fpr", {"0.6", "0"}, number + "(0, 0.5]", " t.txt"},
      {filter, "--expected", {"5e10"}, u64, " t.txt"},
      {"radioactivity predict -m m.bin -t t.model -o p.tsv ", "--top-k", {"65"}, whole + "1..64", " t.txt"},
      {"radioactivity score -k k.key -t t.model --answers a.jsonl ", "--alpha", {"-0.5"}, number + "(0, 1)", ""},
      {"report verify -p s.pub ", "--threads", {"2000"}, whole + "1..1024", " b"},
      {"keyinfo -k k.key ", "--vocab-size", {"5000000000"}, whole + "2..1073741824", ""},
      {"demo ", "--tokens", {"10"}, whole + "16..400", ""},
      {"demo ", "--alpha", {"1e-400"}, number + "(0, 1)", ""}};
  for (const Refused& r : refused)
    for (const std::string& value : r.values)
      check_refused(dir, r.command + r.flag + " " + value + r.rest, r.flag + ": " + r.message);
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
