// The command line's handling of key files: one-line refusals with exit code 2, and no secret in any output.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "run_command.hpp"
#include "secret_search.hpp"
#include "telltale/keyring.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using telltale::test::run_command;
using telltale::test::shell_quote;
using telltale::test::slurp;
using telltale::test::telltale_binary;

namespace {

constexpr size_t kSecretOffset = 16;  // spec/key-file.md: magic (8), version (4), reserved (4), then the secret
constexpr size_t kSecretSize = 32;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("telltale-cli-keys-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_bytes(const fs::path& p, const std::string& bytes, mode_t mode) {
  fs::remove(p);
  std::ofstream(p, std::ios::binary) << bytes;
  ::chmod(p.c_str(), mode);
}

std::string keygen(const fs::path& key) {
  const auto r = run_command(telltale_binary() + " keygen --out " + shell_quote(key.string()));
  REQUIRE(r.exit_code == 0);
  return slurp(key);
}

bool one_line_error(const std::string& err) {
  return err.rfind("telltale: error: ", 0) == 0 && std::count(err.begin(), err.end(), '\n') == 1;
}

}  // namespace

TEST_CASE("keyinfo refuses bad key files with one line naming the file and exit code 2", "[cli][keys]") {
  const fs::path dir = fresh_dir("refusals");
  const std::string good = keygen(dir / "good.key");
  REQUIRE(good.size() == 80);
  const fs::path bad = dir / "bad.key";
  struct Case {
    std::string name;
    std::string bytes;
    mode_t mode;
    std::string expect;  // a word the message must contain
  };
  std::string flipped = good;
  flipped[kSecretOffset + 5] = static_cast<char>(flipped[kSecretOffset + 5] ^ 0x10);
  std::string wrong_version = good;
  wrong_version[8] = 9;
  const std::vector<Case> cases = {
      {"group-readable", good, 0640, "permissions"},
      {"world-readable", good, 0604, "permissions"},
      {"truncated", good.substr(0, 47), 0600, ""},
      {"empty", "", 0600, ""},
      {"extended", good + "x", 0600, ""},
      {"bit flip in the secret", flipped, 0600, "checksum"},
      {"wrong version", wrong_version, 0600, "version"},
  };
  for (const Case& c : cases) {
    INFO("case: " << c.name);
    write_bytes(bad, c.bytes, c.mode);
    const auto r = run_command(telltale_binary() + " keyinfo --key " + shell_quote(bad.string()));
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(one_line_error(r.err));
    CHECK(r.err.find(bad.string()) != std::string::npos);
    if (!c.expect.empty()) CHECK(r.err.find(c.expect) != std::string::npos);
  }
  SECTION("a missing key file") {
    const auto r = run_command(telltale_binary() + " keyinfo --key " + shell_quote((dir / "none.key").string()));
    CHECK(r.exit_code == 2);
    CHECK(one_line_error(r.err));
  }
  SECTION("keygen never overwrites an existing file") {
    const auto r = run_command(telltale_binary() + " keygen --out " + shell_quote((dir / "good.key").string()));
    CHECK(r.exit_code == 2);
    CHECK(one_line_error(r.err));
    CHECK(slurp(dir / "good.key") == good);
  }
  fs::remove_all(dir);
}

TEST_CASE("keygen creates the key file with mode 0600", "[cli][keys]") {
  const fs::path dir = fresh_dir("mode");
  ::umask(0);  // even a permissive umask must not widen the file
  keygen(dir / "k.key");
  ::umask(022);
  struct stat st {};
  REQUIRE(::stat((dir / "k.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  fs::remove_all(dir);
}

TEST_CASE("the secret and its subkeys never appear in any output of the command line", "[cli][keys]") {
  const fs::path dir = fresh_dir("leak");
  const fs::path key = dir / "k.key";
  const std::string file = keygen(key);
  const std::string secret = file.substr(kSecretOffset, kSecretSize);

  const std::vector<std::string> needles = telltale::test::key_needles(secret);

  const std::string model = std::string(telltale::test::kModelDir) + "/stories260K.bin";
  const std::string tok = std::string(telltale::test::kModelDir) + "/tok512.model";
  const std::string k = shell_quote(key.string());
  // Watermarked text for the verifier's commands to read.
  const fs::path texts = dir / "texts.jsonl";
  const auto gen = run_command(telltale_binary() + " generate --key " + k + " -m " + shell_quote(model) + " -t " +
                               shell_quote(tok) + " -n 64 -c 3 --jsonl");
  REQUIRE(gen.exit_code == 0);
  std::ofstream(texts) << gen.out;
  const std::string t = shell_quote(texts.string());
  const std::string partial = shell_quote((dir / "p.partial").string());
  std::vector<std::string> commands = {
      "detect --key " + k + " -t " + shell_quote(tok) + " --field text --per-doc --window 16 " + t,
      "detect --key " + k + " -t " + shell_quote(tok) + " --field text -q --emit-partial " + partial + " " + t,
      "merge " + partial,
      "detect --key " + k + " -t " + shell_quote(tok) + " --field nothing " + t,  // an error path
      "demo --key " + k + " -m " + shell_quote(model) + " -t " + shell_quote(tok) + " --out " +
          shell_quote((dir / "demo").string()),
      "keyinfo --key " + k + " --tokenizer " + shell_quote(tok),
      "generate --key " + k + " -m " + shell_quote(model) + " -t " + shell_quote(tok) + " -n 64 --jsonl",
      "generate --key " + k + " -m " + shell_quote(model) + " -t " + shell_quote(tok) + " -n 32 --scheme gumbel",
      "generate --key " + k + " -m " + shell_quote(model) + " -t " + shell_quote(tok) + " -n 32 --scheme tournament",
      "keyinfo --key " + k + " --gamma 7",         // an error path
      "generate --key " + k + " -m /nonexistent",  // another
      "--help",
  };
  for (const std::string& args : commands) {
    const auto r = run_command(telltale_binary() + " " + args);
    INFO("command: telltale " << args);
    const std::string all = r.out + r.err;
    CHECK(!all.empty());
    for (const std::string& needle : needles) CHECK(all.find(needle) == std::string::npos);
  }
  // And nothing the commands wrote to files (the partial result, the demo's texts), other than the key itself.
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path() == key) continue;
    INFO("file: " << entry.path());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++files;
    for (const std::string& needle : needles) CHECK(bytes.find(needle) == std::string::npos);
  }
  CHECK(files >= 3);
  fs::remove_all(dir);
}
