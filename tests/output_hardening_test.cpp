// What the command line creates and prints (issue 28, items 4, 7 and 11): every created file refuses an existing path
// and a symbolic link, a full disk leaves nothing that blocks a rerun, and a lost write to stdout is exit 2.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "openai_test_server.hpp"
#include "run_command_limited.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace fs = std::filesystem;
using telltale::test::ScratchDir;
using telltale::test::slurp;

namespace {

std::string model() { return std::string(telltale::test::kModelDir) + "/stories260K.bin"; }
std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

using Run = telltale::test::CommandResult;

std::string in_dir(const ScratchDir& dir, const std::string& args) {
  return "cd " + dir.str() + " && " + telltale::test::telltale_binary() + " " + args;
}

Run run(const ScratchDir& dir, const std::string& args) { return telltale::test::run_command(in_dir(dir, args)); }

// Every file write past `max_bytes` fails with EFBIG, as on a full disk.
Run run_limited(const ScratchDir& dir, const std::string& args, rlim_t max_bytes) {
  return telltale::test::run_command_with_file_limit(in_dir(dir, args), max_bytes);
}

// stdout redirected by the command itself ("> /dev/full", ">&-"); run_command's own redirection is outside it.
Run run_with_stdout(const ScratchDir& dir, const std::string& args, const std::string& redirect) {
  return telltale::test::run_command("cd " + dir.str() + " && (" + telltale::test::telltale_binary() + " " + args +
                                     " " + redirect + ")");
}

bool one_line_error(const std::string& err) {
  return err.rfind("telltale: error: ", 0) == 0 && std::count(err.begin(), err.end(), '\n') == 1;
}

// Names in `dir` that a failed or refused write may have left: temporary files beside their target.
std::vector<std::string> temporaries(const ScratchDir& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir.str()))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(e.path().string());
  return found;
}

bool exists_in_any_form(const std::string& path) { return fs::exists(fs::symlink_status(path)); }

// Some English prose, long enough for every window size and the model's predictions.
std::string prose() {
  std::string text;
  for (int i = 0; i < 12; ++i) {
    text +=
        "Once upon a time there was a little girl named Lily. She liked to play in the park with her dog Max. One day "
        "the sun was hot and they sat under a big tree to rest. Story " +
        std::to_string(i) + ".\n";
  }
  return text;
}

// One command that creates a file or directory: `args` with OUT where the created path goes, and `created` the path
// that ends up made (OUT itself, except for the public half of a signing key pair).
struct Creator {
  std::string name;
  std::string args;
  std::string created;
  std::vector<std::string> also_not_created;  // paths that must not appear when `created` is refused
};

std::string with_out(std::string args, const std::string& out) {
  const size_t at = args.find("OUT");
  REQUIRE(at != std::string::npos);
  return args.replace(at, 3, out);
}

// The inputs every creator needs: a key, a signing key pair, prose, a partial result, a bundle, predictions.
void prepare_inputs(const ScratchDir& dir) {
  REQUIRE(run(dir, "keygen --out k.key").exit_code == 0);
  REQUIRE(run(dir, "keygen --signing --out s.key").exit_code == 0);
  dir.file("text.txt", prose());
  REQUIRE(run(dir, "detect -q -k k.key -t " + tok() + " --emit-partial a.part text.txt").exit_code == 1);
  REQUIRE(run(dir, "detect -q -k k.key -t " + tok() + " --bundle b --signing-key s.key text.txt").exit_code == 1);
  REQUIRE(run(dir, "radioactivity predict -m " + model() + " -t " + tok() + " --out p.jsonl text.txt").exit_code == 0);
}

std::vector<Creator> creators() {
  const std::string t = " -t " + tok() + " ";
  return {
      {"keygen", "keygen --out OUT", "OUT", {}},
      {"keygen --signing (secret)", "keygen --signing --out OUT", "OUT", {"OUT.pub"}},
      {"keygen --signing (public)", "keygen --signing --out pair.key", "pair.key.pub", {"pair.key"}},
      {"detect --emit-partial", "detect -q -k k.key" + t + "--emit-partial OUT text.txt", "OUT", {}},
      {"detect --bundle", "detect -q -k k.key" + t + "--bundle OUT --signing-key s.key text.txt", "OUT", {}},
      {"merge --emit-partial", "merge --emit-partial OUT a.part", "OUT", {}},
      {"report html -o", "report html b -p s.key.pub -o OUT", "OUT", {}},
      {"radioactivity filter --out", "radioactivity filter" + t + "--out OUT text.txt", "OUT", {}},
      {"radioactivity predict --out", "radioactivity predict -m " + model() + t + "--out OUT text.txt", "OUT", {}},
      {"radioactivity score --provenance",
       "radioactivity score -k k.key" + t + "--predictions p.jsonl --provenance OUT",
       "OUT",
       {}},
  };
}

}  // namespace

TEST_CASE(
    "every file telltale creates refuses an existing file and a symbolic link at its path, and never creates the "
    "link's target",
    "[cli][output]") {
  ScratchDir dir("output-refuse");
  prepare_inputs(dir);
  for (const Creator& c : creators()) {
    for (const bool as_link : {false, true}) {
      const std::string out = std::string(as_link ? "link" : "existing") + "-out";
      const std::string created = c.created == "OUT" ? out : c.created;
      const std::string args = c.args.find("OUT") == std::string::npos ? c.args : with_out(c.args, out);
      const std::string victim = dir.path("victim");
      if (as_link) {
        REQUIRE(::symlink(victim.c_str(), dir.path(created).c_str()) == 0);
      } else {
        dir.file(created, "keep me");
      }
      INFO(c.name << (as_link ? ", dangling symbolic link" : ", existing file") << ": " << args);
      const Run r = run(dir, args);
      INFO(r.err);
      CHECK(r.exit_code == 2);
      CHECK(one_line_error(r.err));
      CHECK(r.err.find(created + ": already exists") != std::string::npos);
      CHECK_FALSE(exists_in_any_form(victim));
      if (!as_link) CHECK(slurp(dir.path(created)) == "keep me");
      for (const std::string& other : c.also_not_created) {
        const std::string o = other.find("OUT") == std::string::npos ? other : with_out(other, out);
        CHECK_FALSE(exists_in_any_form(dir.path(o)));
      }
      CHECK(temporaries(dir).empty());
      fs::remove(dir.path(created));
    }
  }
}

TEST_CASE(
    "a full disk (file-size limit) fails every created file with the reason, leaves nothing at its path, and a rerun "
    "succeeds",
    "[cli][output]") {
  ScratchDir dir("output-full");
  prepare_inputs(dir);
  for (const Creator& c : creators()) {
    const std::string out = "new-out";
    const std::string created = c.created == "OUT" ? out : c.created;
    const std::string args = c.args.find("OUT") == std::string::npos ? c.args : with_out(c.args, out);
    INFO(c.name << ": " << args);
    const Run full = run_limited(dir, args, 16);
    INFO(full.err);
    CHECK(full.exit_code == 2);
    CHECK(one_line_error(full.err));
    CHECK(full.err.find("write failed: ") != std::string::npos);
    CHECK(full.err.find(": File too large") != std::string::npos);
    CHECK_FALSE(exists_in_any_form(dir.path(created)));
    for (const std::string& other : c.also_not_created) {
      const std::string o = other.find("OUT") == std::string::npos ? other : with_out(other, out);
      CHECK_FALSE(exists_in_any_form(dir.path(o)));
    }
    CHECK(temporaries(dir).empty());

    const Run again = run(dir, args);
    INFO(again.err);
    CHECK((again.exit_code == 0 || again.exit_code == 1));
    CHECK(exists_in_any_form(dir.path(created)));
    fs::remove_all(dir.path(created));
    for (const std::string& other : c.also_not_created) {
      fs::remove(dir.path(other.find("OUT") == std::string::npos ? other : with_out(other, out)));
    }
  }
}

TEST_CASE("a full bundle write names the file and leaves no bundle directory behind", "[cli][output]") {
  ScratchDir dir("output-bundle");
  prepare_inputs(dir);
  const std::string args = "detect -q -k k.key -t " + tok() + " --bundle nb --signing-key s.key text.txt";
  const Run full = run_limited(dir, args, 64);
  CHECK(full.exit_code == 2);
  CHECK(full.err == "telltale: error: write failed: nb/record.json: File too large\n");
  CHECK_FALSE(exists_in_any_form(dir.path("nb")));
  CHECK(temporaries(dir).empty());
  REQUIRE(run(dir, args).exit_code == 1);
  CHECK(run(dir, "report verify nb -p s.key.pub").exit_code == 0);
}

TEST_CASE("a signing key pair is made whole or not at all: a failed public half removes the secret", "[cli][output]") {
  ScratchDir dir("output-pair");
  // 88 bytes: room for the 80-byte secret file, not for the 96-byte public key line.
  const Run full = run_limited(dir, "keygen --signing --out pair.key", 88);
  CHECK(full.exit_code == 2);
  CHECK(full.err == "telltale: error: write failed: pair.key.pub: File too large\n");
  CHECK_FALSE(exists_in_any_form(dir.path("pair.key")));
  CHECK_FALSE(exists_in_any_form(dir.path("pair.key.pub")));
  CHECK(temporaries(dir).empty());
  CHECK(run(dir, "keygen --signing --out pair.key").exit_code == 0);
}

TEST_CASE("the query log is never created through a symbolic link, and a failed first write leaves no log",
          "[cli][output][query]") {
  ScratchDir dir("output-query");
  telltale::test::OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  dir.file("prompts.jsonl", "{\"prompt\": \"Once upon a time\"}\n{\"prompt\": \"The little dog\"}\n");
  const std::string args = "radioactivity query -q -e " + server.base_url() +
                           " -m suspect -p prompts.jsonl -o log.jsonl --max-tokens 20 --rate 1000 --retry-delay 0.001 "
                           "--max-retry-delay 0.01";
  REQUIRE(::symlink(dir.path("victim").c_str(), dir.path("log.jsonl").c_str()) == 0);
  const Run linked = run(dir, args);
  CHECK(linked.exit_code == 2);
  CHECK(one_line_error(linked.err));
  CHECK(linked.err.find("log.jsonl: a symbolic link") != std::string::npos);
  CHECK_FALSE(exists_in_any_form(dir.path("victim")));
  fs::remove(dir.path("log.jsonl"));

  const Run full = run_limited(dir, args, 16);
  CHECK(full.exit_code == 2);
  CHECK(one_line_error(full.err));
  CHECK(full.err.find("write failed: log.jsonl: File too large") != std::string::npos);
  CHECK_FALSE(exists_in_any_form(dir.path("log.jsonl")));
  CHECK(temporaries(dir).empty());

  const Run again = run(dir, args);
  INFO(again.err);
  CHECK(again.exit_code == 0);
  struct stat st {};
  REQUIRE(::stat(dir.path("log.jsonl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(slurp(dir.path("log.jsonl")).find("\"prompt\":\"The little dog\"") != std::string::npos);
}

TEST_CASE("a lost write to stdout (/dev/full, a closed stdout) is exit 2 with the reason", "[cli][output]") {
  ScratchDir dir("output-stdout");
  REQUIRE(run(dir, "keygen --out k.key").exit_code == 0);
  dir.file("text.txt", prose());
  REQUIRE(run(dir, "detect -q -k k.key -t " + tok() + " --emit-partial a.part text.txt").exit_code == 1);
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"generate", "generate -m " + model() + " -t " + tok() + " -n 16 --count 2 --no-watermark --seed 1"},
      {"detect", "detect -q -k k.key -t " + tok() + " text.txt"},
      {"keyinfo", "keyinfo --key k.key"},
      {"merge", "merge a.part"},
      {"keygen", "keygen --out fresh.key"},
  };
  const std::vector<std::pair<std::string, std::string>> sinks = {{">/dev/full", "No space left on device"},
                                                                  {">&-", "Bad file descriptor"}};
  for (const auto& [name, args] : commands) {
    for (const auto& [redirect, reason] : sinks) {
      INFO(name << " " << redirect);
      const Run r = run_with_stdout(dir, args, redirect);
      CHECK(r.exit_code == 2);
      CHECK(r.err == "telltale: error: writing standard output: " + reason + "\n");
      // keygen says what it made or makes nothing: a key whose id was lost is removed again.
      if (name == "keygen") CHECK_FALSE(exists_in_any_form(dir.path("fresh.key")));
    }
  }
  // The same commands with a working stdout succeed (detect finds no watermark in the prose: exit 1).
  CHECK(run(dir, "keyinfo --key k.key").exit_code == 0);
  CHECK(run(dir, "merge a.part").exit_code == 1);
}
