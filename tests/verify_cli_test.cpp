// `telltale detect` and `telltale merge` as scripts use them: JSON on stdout, exit codes 0/1/2, sharded runs that
// merge to the one-pass output byte for byte, output independent of --threads, and one-line errors naming the file
// and line for every kind of bad input (with --skip-bad continuing past bad documents and counting them).
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::ScratchDir;

struct Run {
  int rc = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tt() { return std::string(telltale::test::kBinaryDir) + "/verify/telltale"; }
std::string model() { return std::string(telltale::test::kModelDir) + "/stories260K.bin"; }
std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

Run run(const ScratchDir& dir, const std::string& args) {
  const std::string out = dir.path("stdout"), err = dir.path("stderr");
  const std::string cmd = "cd " + dir.str() + " && " + tt() + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  Run r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// A key in `dir` and KGW texts with and without it: wm.jsonl and plain.jsonl (field "completion").
void make_texts(const ScratchDir& dir) {
  REQUIRE(run(dir, "keygen --out k.key").rc == 0);
  REQUIRE(run(dir, "keygen --out other.key").rc == 0);
  const std::string gen = "generate -m " + model() + " -t " + tok() + " -n 200 --top-p 1 --jsonl --count 4 ";
  const Run wm = run(dir, gen + "--key k.key --seed 7");
  REQUIRE(wm.rc == 0);
  dir.file("wm.jsonl", wm.out);
  const Run plain = run(dir, gen + "--no-watermark --seed 7");
  REQUIRE(plain.rc == 0);
  dir.file("plain.jsonl", plain.out);
}

std::string detect(const std::string& rest) { return "detect -q -k k.key -t " + tok() + " " + rest; }

}  // namespace

TEST_CASE("detect prints p_value, scored_tokens and detected, and exits 0 detected / 1 not detected", "[verify][cli]") {
  ScratchDir dir("cli-detect");
  make_texts(dir);
  const Run wm = run(dir, detect("-f completion wm.jsonl"));
  INFO(wm.err);
  REQUIRE(wm.rc == 0);
  const auto j = nlohmann::json::parse(wm.out);
  CHECK(j.at("detected").get<bool>());
  CHECK(j.at("p_value").get<double>() < 1e-6);
  CHECK(j.at("scored_tokens").get<uint64_t>() > 600);
  CHECK(j.at("tokenizer_sha256").get<std::string>().size() == 64);
  CHECK(j.at("rules").at("first_window_skipped").get<int>() == 4);
  CHECK(j.at("documents").get<int>() == 4);
  CHECK(wm.out.find(slurp(dir.path("k.key"))) == std::string::npos);  // never the key bytes

  const Run plain = run(dir, detect("-f completion plain.jsonl"));
  CHECK(plain.rc == 1);
  CHECK_FALSE(nlohmann::json::parse(plain.out).at("detected").get<bool>());
  // The right text with a different key: not detected.
  CHECK(run(dir, "detect -q -k other.key -t " + tok() + " -f completion wm.jsonl").rc == 1);
  // Two keys: Holm over both, still detected, and both analyses are reported.
  const Run two = run(dir, "detect -q -k other.key -k k.key -t " + tok() + " -f completion wm.jsonl");
  CHECK(two.rc == 0);
  const auto jt = nlohmann::json::parse(two.out);
  CHECK(jt.at("hypotheses").get<int>() == 2);
  CHECK(jt.at("analyses").size() == 2);

  // --per-doc: one JSON line per document, then the summary line.
  const Run per = run(dir, detect("--per-doc -f completion wm.jsonl plain.jsonl"));
  std::istringstream lines(per.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto d = nlohmann::json::parse(line);
    if (n < 8) {
      CHECK(d.at("source").get<std::string>() == (n < 4 ? "wm.jsonl" : "plain.jsonl"));
      CHECK(d.at("line").get<int>() == n % 4 + 1);
      CHECK(d.contains("p_value"));
    } else {
      CHECK(d.at("documents").get<int>() == 8);
    }
    ++n;
  }
  CHECK(n == 9);
  // stdin
  CHECK(run(dir, detect("-f completion - < wm.jsonl")).rc == 0);
}

TEST_CASE("sharded detect + merge prints the one-pass summary byte for byte; --threads changes nothing",
          "[verify][cli]") {
  ScratchDir dir("cli-merge");
  make_texts(dir);
  for (const std::string rules : {"", "--window 16", "--no-dedup", "--scheme gumbel", "--scheme tournament"}) {
    INFO("rules: " << rules);
    const std::string common = "-f completion " + rules + " ";
    const Run one = run(dir, detect(common + "wm.jsonl plain.jsonl"));
    REQUIRE((one.rc == 0 || one.rc == 1));
    std::system(("rm -f " + dir.path("a.part") + " " + dir.path("b.part")).c_str());
    REQUIRE(run(dir, detect(common + "--emit-partial a.part wm.jsonl")).rc != 2);
    REQUIRE(run(dir, detect(common + "--emit-partial b.part plain.jsonl")).rc != 2);
    const Run merged = run(dir, "merge a.part b.part");  // streaming
    CHECK(merged.rc == one.rc);
    CHECK(merged.out == one.out);
    std::system(("rm -f " + dir.path("m.part")).c_str());
    const Run in_memory = run(dir, "merge --emit-partial m.part a.part b.part");  // in memory, writes m.part
    CHECK(in_memory.out == one.out);
    CHECK(run(dir, "merge m.part").out == one.out);
    for (const char* threads : {"-j 2", "-j 3"}) {
      const Run t = run(dir, detect(common + threads + " --per-doc wm.jsonl plain.jsonl"));
      const Run t1 = run(dir, detect(common + "-j 1 --per-doc wm.jsonl plain.jsonl"));
      CHECK(t.out == t1.out);
    }
  }
  // Partials of different keys do not merge.
  REQUIRE(run(dir, "detect -q -k other.key -t " + tok() + " -f completion --emit-partial c.part plain.jsonl").rc != 2);
  const Run bad = run(dir, "merge a.part c.part");
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("c.part") != std::string::npos);
  // A partial is never overwritten, and a file that is not one is refused by name.
  CHECK(run(dir, detect("-f completion --emit-partial a.part wm.jsonl")).rc == 2);
  CHECK(run(dir, "merge wm.jsonl").err.find("wm.jsonl: not a telltale partial result") != std::string::npos);
}

TEST_CASE("detect --memory-limit spills the tuple set to disk and prints the same summary and partial",
          "[verify][cli]") {
  ScratchDir dir("cli-spill");
  make_texts(dir);
  for (const std::string rules : {"", "--window 16 --scheme gumbel", "--per-doc --scheme tournament"}) {
    INFO("rules: " << rules);
    const std::string common = "-f completion " + rules + " ";
    std::system(("rm -f " + dir.path("m.part") + " " + dir.path("s.part")).c_str());
    const Run memory = run(dir, detect(common + "--emit-partial m.part wm.jsonl plain.jsonl"));
    REQUIRE((memory.rc == 0 || memory.rc == 1));
    const Run spilled = run(dir, detect(common + "--memory-limit 4096 --spill-dir . --emit-partial s.part "
                                                 "wm.jsonl plain.jsonl"));
    CHECK(spilled.rc == memory.rc);
    CHECK(spilled.out == memory.out);
    CHECK(slurp(dir.path("s.part")) == slurp(dir.path("m.part")));
  }
  const Run tiny = run(dir, detect("-f completion --memory-limit 4095 wm.jsonl"));
  CHECK(tiny.rc == 2);
  CHECK(tiny.err.find("--memory-limit") != std::string::npos);
  const Run nowhere = run(dir, detect("-f completion --memory-limit 4096 --spill-dir no/such/dir wm.jsonl"));
  CHECK(nowhere.rc == 2);
  CHECK(nowhere.err ==
        "telltale: error: no/such/dir: cannot create a spill file for the tuple set: No such file or "
        "directory\n");
}

TEST_CASE("bad input gives a one-line error naming the file and line, exit 2; --skip-bad continues and counts",
          "[verify][cli]") {
  ScratchDir dir("cli-bad");
  REQUIRE(run(dir, "keygen --out k.key").rc == 0);
  dir.file("good.txt", "Elinor walked along the lane and thought of everything that had been said that morning.\n");
  dir.file("utf8.txt", "This text has a bad byte here: \xff\xfe and goes on.\n");
  dir.file("empty.txt", "");
  dir.file("bad.jsonl",
           "{\"text\": \"a fine first record with enough words in it to score\"}\n"
           "{this is not json\n"
           "{\"other\": \"no text field\"}\n"
           "{\"text\": \"a fine last record with enough words in it to score\"}\n");
  dir.file("lines.txt", "fine line one\nbad \xc3\x28 line two\nfine line three\n");

  struct Case {
    std::string args;
    std::string where;  // what the message must name
  };
  const Case cases[] = {
      {detect("utf8.txt"), "utf8.txt"},
      {detect("--split line lines.txt"), "lines.txt:2"},
      {detect("empty.txt"), "empty.txt"},
      {detect("-f text bad.jsonl"), "bad.jsonl:2"},
      {detect("no-such-file.txt"), "no-such-file.txt"},
      {"detect -q -k k.key -t no-such.model good.txt", "no-such.model"},
      {"detect -q -k k.key -t good.txt good.txt", "good.txt"},  // not a SentencePiece model
      {detect("--expect-tokenizer-sha256 " + std::string(64, '0') + " good.txt"), "tok512.model"},
      {"detect -q -k good.txt -t " + tok() + " good.txt", "good.txt"},  // not a key file
      {"detect -q -k no-such.key -t " + tok() + " good.txt", "no-such.key"},
      {detect("--expect-key-id " + std::string(64, '0') + " good.txt"), "k.key"},
  };
  ::chmod(dir.path("good.txt").c_str(), 0600);
  for (const Case& c : cases) {
    INFO(c.args);
    const Run r = run(dir, c.args);
    INFO("stderr: " << r.err);
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("telltale: error: ", 0) == 0);
    CHECK(r.err.find(c.where) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  // The missing field names its line too.
  dir.file("field.jsonl", "{\"text\": \"fine record here with words\"}\n{\"other\": 1}\n");
  CHECK(run(dir, detect("-f text field.jsonl")).err.find("field.jsonl:2") != std::string::npos);

  // --skip-bad: the good documents are scored, the bad ones counted and listed on stderr.
  const Run skip = run(dir, detect("--skip-bad -f text bad.jsonl"));
  INFO(skip.err);
  CHECK((skip.rc == 0 || skip.rc == 1));
  const auto j = nlohmann::json::parse(skip.out);
  CHECK(j.at("documents").get<int>() == 2);
  CHECK(j.at("skipped_bad").get<int>() == 2);
  CHECK(skip.err.find("skipped 2 bad") != std::string::npos);
  CHECK(skip.err.find("bad.jsonl:2") != std::string::npos);
  CHECK(skip.err.find("bad.jsonl:3") != std::string::npos);
  // An unreadable (here: missing) file among the inputs is skipped and counted like a bad document.
  const Run skip_missing = run(dir, detect("-f text --skip-bad bad.jsonl no-such-file.txt"));
  CHECK(nlohmann::json::parse(skip_missing.out).at("skipped_bad").get<int>() == 3);
  CHECK(skip_missing.err.find("no-such-file.txt") != std::string::npos);
  const Run skip_files = run(dir, detect("--skip-bad good.txt utf8.txt empty.txt --split line lines.txt"));
  CHECK((skip_files.rc == 0 || skip_files.rc == 1));
  // An empty text file holds no document (it is not a bad one); utf8.txt and line 2 of lines.txt are skipped.
  CHECK(nlohmann::json::parse(skip_files.out).at("skipped_bad").get<int>() == 2);
}

TEST_CASE("telltale demo runs end to end and prints a verdict for every text", "[verify][cli]") {
  ScratchDir dir("cli-demo");
  const Run r = run(dir, "demo --out out --seed 3");
  INFO(r.out << r.err);
  REQUIRE(r.rc == 0);
  for (const char* row : {"watermarked story 1", "plain story 3", "Austen ", "Austen + stories 1-2"})
    CHECK(r.out.find(row) != std::string::npos);
  // Unwatermarked text is never flagged at the demo's alpha (1e-6): each row is an exact, corrected test.
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("plain story", 0) == 0 || line.rfind("Austen  ", 0) == 0)
      CHECK(line.find("not detected") != std::string::npos);
  }
  // The texts and the key are kept in --out, and detect agrees with the demo on them.
  const Run d = run(dir, "detect -q -k out/demo.key -t " + tok() + " --per-doc --window 32 out/texts");
  CHECK(d.rc == 0);
}
