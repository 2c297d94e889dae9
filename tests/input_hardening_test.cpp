// The verifier's inputs under hostile or careless use (issue 28): a key file given as any input is refused without
// one byte of it in any output, special files (FIFOs) are refused at once instead of blocking, and inputs holding no
// document are an error unless --allow-empty says otherwise. Every CLI run has a time limit, so a hang fails.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "run_command.hpp"
#include "secret_search.hpp"
#include "telltale/input_file.hpp"
#include "telltale/keyring.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using telltale::test::ScratchDir;
using telltale::test::slurp;

std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

using Run = telltale::test::CommandResult;

// `telltale args` run in `dir`, killed after 20 s so that a blocking open fails the test instead of hanging it.
Run run(const ScratchDir& dir, const std::string& args) {
  return telltale::test::run_command("cd " + dir.str() + " && timeout -s KILL 20 " + telltale::test::telltale_binary() +
                                     " " + args);
}

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// A refusal: exit 2 and exactly one line on stderr holding `what`.
void check_one_line_error(const Run& r, const std::string& args, const std::string& what) {
  INFO(args << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find(what) != std::string::npos);
}

// Every file under `dir` (outputs a command may have written), concatenated, with the listed inputs left out.
std::string files_written(const ScratchDir& dir, const std::vector<std::string>& inputs) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir.str())) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    const std::string name = e.path().filename().string();
    if (std::find(inputs.begin(), inputs.end(), name) != inputs.end()) continue;
    all += slurp(e.path());
  }
  return all;
}

// A scratch directory with a watermark key, a signing key pair and small valid inputs of every kind.
struct Inputs {
  ScratchDir dir{"hardening"};
  std::string watermark_secret;     // the 32 secret bytes of w.key
  std::string signing_seed;         // the 32 seed bytes of s.key
  std::vector<std::string> inputs;  // every file made here (not outputs)

  Inputs() {
    REQUIRE(run(dir, "keygen --out w.key").exit_code == 0);
    REQUIRE(run(dir, "keygen --signing --out s.key").exit_code == 0);
    watermark_secret = slurp(dir.path("w.key")).substr(16, 32);
    signing_seed = slurp(dir.path("s.key")).substr(16, 32);
    REQUIRE(watermark_secret.size() == 32);
    REQUIRE(signing_seed.size() == 32);
    make("t.txt", "Once upon a time there was a little girl who liked to play in the park.\n");
    make("reg.txt", "1\n2\n3\n");
    make("p.jsonl",
         "{\"telltale\": \"predictions\", \"version\": 1, \"vocab_size\": 512}\n"
         "{\"ids\": [5, 6, 7, 8, 9, 10], \"positions\": [5], \"predicted\": [[11]]}\n");
    make("a.jsonl", "{\"prompt\": \"Tell a story.\", \"response\": \"Once upon a time.\"}\n");
    inputs.insert(inputs.end(), {"w.key", "s.key", "s.key.pub"});
  }
  void make(const std::string& name, const std::string& bytes) {
    dir.file(name, bytes);
    inputs.push_back(name);
  }
  // Every encoding of every secret the directory holds.
  std::vector<std::string> needles() const {
    std::vector<std::string> n = telltale::test::key_needles(watermark_secret);
    for (auto& e : telltale::test::encodings(signing_seed)) n.push_back(e);
    return n;
  }
};

}  // namespace

TEST_CASE("a key file given as any input is refused in one line and no output holds a byte of a secret",
          "[hardening][cli]") {
  Inputs in;
  const std::vector<std::string> needles = in.needles();
  // Each key kind, under a name of each document format, linked as the reproduction does.
  const std::vector<std::string> kinds = {"w.key", "s.key", "s.key.pub"};
  const std::string detect = "detect -k w.key -t " + tok() + " -q ";
  const std::string attribute = "attribute -k w.key -t " + tok() + " -q ";
  const std::string score = "radioactivity score -k w.key -t " + tok() + " ";
  int runs = 0;
  for (const std::string& kind : kinds) {
    for (const std::string ext : {"txt", "jsonl", "ids", "model"}) {
      const std::string link = "link-" + kind + "." + ext;
      fs::create_symlink(in.dir.path(kind), in.dir.path(link));
      in.inputs.push_back(link);
    }
    const std::string k = "link-" + kind;
    // Each command and what its one line must say: under --skip-bad the key file is skipped, leaving nothing read.
    std::vector<std::pair<std::string, std::string>> commands;
    for (const std::string skip : {"", "--skip-bad "}) {
      const std::string what = skip.empty() ? "this is a telltale" : "no documents read";
      for (const std::string split : {"", "--split line ", "--split paragraph "}) {
        commands.emplace_back(detect + skip + split + k + ".txt", what);
      }
      commands.emplace_back(detect + skip + k + ".jsonl", what);
      commands.emplace_back(detect + skip + "--field text " + k + ".jsonl", what);
      commands.emplace_back(detect + skip + "--split line " + k + ".ids", what);
      commands.emplace_back(detect + skip + "- < " + k + ".txt", what);
      commands.emplace_back(attribute + skip + "-r reg.txt " + k + ".ids", what);
      commands.emplace_back(attribute + skip + "-r reg.txt " + k + ".txt", what);
    }
    const std::string query = "radioactivity query -q -e http://127.0.0.1:9/v1 -m m -o log-" + kind + ".jsonl -p ";
    for (const std::string& args :
         {"detect -k w.key -q -t " + k + ".model t.txt",
          "attribute -k w.key -q -t " + tok() + " -r " + k + ".txt t.txt", score + "--predictions " + k + ".jsonl",
          score + "--answers " + k + ".jsonl", score + "--predictions p.jsonl --filter " + k + ".txt",
          "radioactivity filter -t " + tok() + " -o f-" + kind + ".ttcf " + k + ".ids", query + k + ".txt",
          query + k + ".jsonl", "keyinfo -k w.key -t " + k + ".model"}) {
      commands.emplace_back(args, "this is a telltale");
    }
    for (const auto& [args, what] : commands) {
      const Run r = run(in.dir, args);
      ++runs;
      check_one_line_error(r, args, what);
      const std::string all = r.out + r.err + files_written(in.dir, in.inputs);
      for (const std::string& needle : needles) {
        INFO(args << "\nstderr: " << r.err);
        REQUIRE(all.find(needle) == std::string::npos);
      }
    }
  }
  CHECK(runs == 3 * 27);
}

TEST_CASE("a key file of the wrong kind given as --key is named as such, not judged by its permissions",
          "[hardening][cli]") {
  Inputs in;
  ::chmod(in.dir.path("s.key.pub").c_str(), 0644);
  const std::string detect = "detect -q -t " + tok() + " t.txt -k ";
  check_one_line_error(run(in.dir, detect + "s.key.pub"), detect + "s.key.pub",
                       "s.key.pub: not a telltale key file (bad magic; this is a telltale signing public key)");
  check_one_line_error(run(in.dir, detect + "s.key"), detect + "s.key",
                       "s.key: not a telltale key file (bad magic; this is a telltale signing key file)");
  check_one_line_error(run(in.dir, detect + "t.txt"), detect + "t.txt", "t.txt: not a telltale key file (bad magic)");
  // A real key with loose permissions is still refused for them.
  ::chmod(in.dir.path("w.key").c_str(), 0644);
  check_one_line_error(run(in.dir, detect + "w.key"), detect + "w.key", "permissions 644 are too open");
}

TEST_CASE("a FIFO given for any input file is refused at once in one line, never waited on", "[hardening][cli]") {
  Inputs in;
  REQUIRE(::mkfifo(in.dir.path("f").c_str(), 0600) == 0);
  REQUIRE(::mkfifo(in.dir.path("f.key").c_str(), 0600) == 0);
  const std::string score = "radioactivity score -k w.key -t " + tok() + " ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"keyinfo --key f.key", "f.key: key file is a FIFO, not a regular file"},
      {"detect -q -k f.key -t " + tok() + " t.txt", "f.key: key file is a FIFO, not a regular file"},
      {"detect -q -k w.key -t f t.txt", "f: tokenizer model is a FIFO, not a regular file"},
      {"attribute -q -k w.key -t " + tok() + " -r f t.txt", "f: the account registry is a FIFO, not a regular file"},
      {"attribute -q -k w.key -t " + tok() + " -r . t.txt",
       ".: the account registry is a directory, not a regular file"},
      {score + "--predictions f", "f: predictions file is a FIFO, not a regular file"},
      {score + "--answers f", "f: answer log is a FIFO, not a regular file"},
      {score + "--predictions p.jsonl --filter f", "f: the context filter is a FIFO, not a regular file"},
      {"radioactivity query -q -e http://127.0.0.1:9/v1 -m m -o log.jsonl -p f",
       "f: prompt file is a FIFO, not a regular file"},
      {"detect -q -k w.key -t " + tok() + " --bundle b --signing-key f t.txt",
       "f: signing key file is a FIFO, not a regular file"},
      {"detect -q -k w.key -t " + tok() + " /dev/null", "/dev/null: is a character device, not a regular file"},
      {"report verify b -p f", "f: signing public key is a FIFO, not a regular file"},
  };
  for (const auto& [args, what] : cases) check_one_line_error(run(in.dir, args), args, what);
}

TEST_CASE("special files inside an input directory are skipped, not opened", "[hardening][cli]") {
  Inputs in;
  fs::create_directory(in.dir.path("corpus"));
  in.dir.file("corpus/a.txt", "Once upon a time there was a cat who sat on a mat all day long.\n");
  REQUIRE(::mkfifo(in.dir.path("corpus/pipe.txt").c_str(), 0600) == 0);
  const Run r = run(in.dir, "detect -q -k w.key -t " + tok() + " corpus");
  INFO(r.err);
  CHECK(r.exit_code == 1);  // not watermarked with w.key; the FIFO did not block the walk
  CHECK(r.out.find("\"documents\": 1") != std::string::npos);
}

TEST_CASE("a signed record naming a FIFO as its input is refused under report verify --key, not waited on",
          "[hardening][cli][evidence]") {
  Inputs in;
  const Run made = run(in.dir, "detect -q -k w.key -t " + tok() + " --bundle b --signing-key s.key t.txt");
  INFO(made.err);
  REQUIRE((made.exit_code == 0 || made.exit_code == 1));
  fs::remove(in.dir.path("t.txt"));
  REQUIRE(::mkfifo(in.dir.path("t.txt").c_str(), 0600) == 0);
  // The tokenizer lies outside the bundle's directory: allowed explicitly, so that the FIFO is what is refused.
  const std::string args =
      "report verify b -p s.key.pub -k w.key --allow-dir " + fs::path(tok()).parent_path().string();
  check_one_line_error(run(in.dir, args), args, "t.txt");
}

TEST_CASE("inputs holding no document are refused with one line unless --allow-empty", "[hardening][cli]") {
  Inputs in;
  fs::create_directory(in.dir.path("empty-dir"));
  in.dir.file("empty.txt", "");
  in.dir.file("blank.txt", " \n\t\n");
  in.dir.file("empty.jsonl", "");
  in.dir.file("blank.jsonl", "\n\n  \n");
  in.dir.file("empty.ids", "");
  in.dir.file("header.jsonl", "{\"telltale\": \"predictions\", \"version\": 1, \"vocab_size\": 512}\n");
  in.dir.file("answers.jsonl", "");
  const std::string detect = "detect -q -k w.key -t " + tok() + " ";
  const std::string attribute = "attribute -q -k w.key -t " + tok() + " -r reg.txt ";
  for (const std::string input : {"empty-dir", "empty.txt", "blank.txt", "empty.jsonl", "blank.jsonl", "empty.ids",
                                  "empty.txt blank.jsonl empty-dir"}) {
    check_one_line_error(run(in.dir, detect + input), detect + input, "no documents read");
    check_one_line_error(run(in.dir, attribute + input), attribute + input, "no documents read");
    const Run allowed = run(in.dir, detect + "--allow-empty " + input);
    INFO(allowed.err);
    CHECK(allowed.exit_code == 1);
    CHECK(allowed.err.find("no documents read") != std::string::npos);
    const std::string bundle = detect + "--allow-empty --bundle b --signing-key s.key " + input;
    check_one_line_error(run(in.dir, bundle), bundle, "--allow-empty cannot be used with --bundle");
    CHECK_FALSE(fs::exists(in.dir.path("b")));
  }
  in.dir.file("bad.txt", "caf\xe9\n");
  check_one_line_error(run(in.dir, detect + "--skip-bad bad.txt"), detect + "--skip-bad bad.txt",
                       "no documents read from bad.txt (all 1 found were skipped as bad");
  const std::string score = "radioactivity score -k w.key -t " + tok() + " ";
  check_one_line_error(run(in.dir, score + "--predictions header.jsonl"), score + "--predictions header.jsonl",
                       "no documents read: header.jsonl holds no prediction record");
  check_one_line_error(run(in.dir, score + "--answers answers.jsonl"), score + "--answers answers.jsonl",
                       "no documents read: answers.jsonl holds no answer");
  const Run allowed = run(in.dir, score + "--allow-empty --answers answers.jsonl");
  CHECK(allowed.exit_code == 1);
  const std::string bundle = score + "--allow-empty --answers answers.jsonl --bundle b --signing-key s.key";
  check_one_line_error(run(in.dir, bundle), bundle, "--allow-empty cannot be used with --bundle");
}

TEST_CASE("a document that is a key file is refused by its tag in every format, quoting none of it",
          "[hardening][input]") {
  using telltale::input::DocumentSource;
  using telltale::input::InputFormat;
  auto ring = telltale::KeyRing::generate();
  REQUIRE(ring);
  auto sealed = ring->serialize();
  REQUIRE(sealed);
  const std::string key(reinterpret_cast<const char*>(sealed->data()), sealed->size());
  const std::string pub = "telltale-ed25519-public-key-v1 " + std::string(64, 'a') + "\n";
  for (const auto& [bytes, kind] : {std::pair{key, "key file"}, std::pair{pub, "signing public key"}}) {
    for (InputFormat format : {InputFormat::kText, InputFormat::kJsonl, InputFormat::kIds}) {
      for (bool skip : {false, true}) {
        telltale::input::InputOptions o;
        o.skip_bad = skip;
        auto source = DocumentSource::from_memory("k", bytes, format, o);
        REQUIRE(source);
        telltale::input::Document doc;
        auto more = source->next(doc);
        REQUIRE_FALSE(more);
        if (skip) {
          REQUIRE(source->skipped_messages().size() == 1);
          CHECK(source->skipped_messages()[0].starts_with(std::string("k: this is a telltale ") + kind + ", not "));
        } else {
          CHECK(more.status().message().starts_with(std::string("k: this is a telltale ") + kind + ", not "));
        }
      }
    }
  }
}

TEST_CASE("open_input_file refuses special files without blocking and reads regular ones", "[hardening][input]") {
  ScratchDir dir("open-input");
  REQUIRE(::mkfifo(dir.path("fifo").c_str(), 0600) == 0);
  auto fifo = telltale::open_input_file(dir.path("fifo"), "prompt file");
  REQUIRE_FALSE(fifo);
  CHECK(fifo.status().message() == dir.path("fifo") + ": prompt file is a FIFO, not a regular file");
  // As a stream a FIFO is accepted, and with no writer it opens at once.
  CHECK(telltale::open_input_file(dir.path("fifo"), {}, telltale::FileKinds::kStreams));
  auto d = telltale::open_input_file(dir.str());
  REQUIRE_FALSE(d);
  CHECK(d.status().message() == dir.str() + ": is a directory, not a regular file");
  auto missing = telltale::open_input_file(dir.path("none"), "registry");
  REQUIRE_FALSE(missing);
  CHECK(missing.status().message() == dir.path("none") + ": cannot open registry: No such file or directory");
  CHECK(telltale::open_input_file(dir.file("f.txt", "x")));
}
