// What the evidence-bundle tests share, whatever test the bundle records: one-line errors, every single-byte change
// of a bundle caught and the file named, and the key material no output may hold.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "evidence/bundle.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/record.hpp"
#include "evidence/signing_key.hpp"
#include "run_command.hpp"
#include "secret_search.hpp"
#include "telltale/keyring.hpp"
#include "verify_test_support.hpp"

namespace telltale::test {

inline constexpr size_t kSecretOffset =
    16;  // spec/key-file.md: the secret's offset in a key file (and a signing key file)
inline constexpr size_t kSecretSize = 32;

inline void write_text(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

inline bool one_line_error(const std::string& err) {
  return err.rfind("telltale: error: ", 0) == 0 && std::count(err.begin(), err.end(), '\n') == 1;
}

// Each byte changed to a different value drawn at random (never the same byte).
inline void change_byte(std::mt19937& rng, std::string& bytes, size_t i) {
  bytes[i] = static_cast<char>(static_cast<uint8_t>(bytes[i]) ^ (1 + rng() % 255));
}

// Changes every byte position of every file of the bundle in memory, one at a time, and checks that verification
// fails naming the file. Returns the number of positions checked.
inline size_t check_every_byte_change_is_caught(const std::string& dir, evidence::BundleFiles& files,
                                                const evidence::SigningPublicKey& key, std::mt19937& rng) {
  size_t checked = 0;
  for (auto& [name, bytes] : files) {
    const std::string original = bytes;
    for (size_t i = 0; i < original.size(); ++i) {
      change_byte(rng, bytes, i);
      auto r = evidence::verify_bundle_files(dir, files, key);
      if (r.is_ok() || r.status().message().find(dir + "/" + name) == std::string::npos) {
        FAIL("changing byte " << i << " of " << name << " was not caught or not named: "
                              << (r.is_ok() ? std::string("verified") : r.status().message()));
      }
      bytes[i] = original[i];
      ++checked;
    }
  }
  CHECK(evidence::verify_bundle_files(dir, files, key).is_ok());
  return checked;
}

// Changes `trials` random bytes of the bundle's files on disk, one at a time (restoring each), and checks that
// verification fails naming the file.
inline void check_byte_changes_on_disk(const std::filesystem::path& bundle, const evidence::BundleFiles& files,
                                       const evidence::SigningPublicKey& key, std::mt19937& rng, int trials) {
  const std::string dir = bundle.string();
  for (int trial = 0; trial < trials; ++trial) {
    auto it = files.begin();
    std::advance(it, static_cast<long>(rng() % files.size()));
    const std::string& name = it->first;
    std::string changed = it->second;
    const size_t i = rng() % changed.size();
    change_byte(rng, changed, i);
    write_text(bundle / name, changed);
    auto r = evidence::verify_bundle(dir, key);
    write_text(bundle / name, it->second);
    INFO("byte " << i << " of " << name);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find(dir + "/" + name) != std::string::npos);
  }
  CHECK(evidence::verify_bundle(dir, key).is_ok());
}

// A command refused: exit 2, one line on stderr holding `expect`, nothing on stdout. `what` names the command.
inline void check_refused(const std::string& what, const CommandResult& r, const std::string& expect) {
  INFO(what << "\n" << r.err);
  CHECK(r.exit_code == 2);
  CHECK(one_line_error(r.err));
  CHECK(r.err.find(expect) != std::string::npos);
  CHECK(r.out.empty());
}

// Named outputs: what a command printed, a file it wrote.
using NamedOutputs = std::vector<std::pair<std::string, std::string>>;

// Neither `outputs` nor any file of the bundle holds the watermark secret, a subkey derived from it or the signing
// seed, in any encoding (the key files' bytes are given). Every output must be non-empty.
inline void check_no_secret_in(NamedOutputs outputs, const std::filesystem::path& bundle,
                               const std::string& watermark_key_file, const std::string& signing_key_file) {
  std::vector<std::string> needles = key_needles(watermark_key_file.substr(kSecretOffset, kSecretSize));
  for (const std::string& e : encodings(signing_key_file.substr(kSecretOffset, kSecretSize))) needles.push_back(e);
  const size_t commands = outputs.size();
  for (const auto& entry : std::filesystem::directory_iterator(bundle)) {
    std::ifstream in(entry.path(), std::ios::binary);
    outputs.emplace_back(entry.path().filename().string(), std::string(std::istreambuf_iterator<char>(in), {}));
  }
  REQUIRE(outputs.size() == commands + 4);
  for (const auto& [name, bytes] : outputs) {
    INFO("output: " << name);
    CHECK(!bytes.empty());
    for (const std::string& needle : needles) CHECK(bytes.find(needle) == std::string::npos);
  }
}

// A record damaged at one field: `value` put at `pointer` (or the field removed), and a word the error must hold.
struct RecordDamage {
  std::string pointer;
  nlohmann::json value;
  bool remove = false;
  std::string expect;
};

// Each damaged copy of `good` is refused by parse_record with a message naming the field.
inline void check_damaged_records_refused(const nlohmann::json& good, const std::vector<RecordDamage>& cases) {
  for (const RecordDamage& c : cases) {
    INFO("case: " << c.pointer);
    nlohmann::json bad = good;
    const nlohmann::json::json_pointer p(c.pointer);
    if (c.remove)
      bad[p.parent_pointer()].erase(p.back());
    else
      bad[p] = c.value;
    auto r = evidence::parse_record(bad.dump());
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find(c.expect) != std::string::npos);
  }
}

// A recipe whose scheme parameters do not give its recorded configuration is refused by `read_recipe`.
template <class RecipeReader>
void check_configuration_mismatch_refused(const nlohmann::json& good, RecipeReader read_recipe) {
  nlohmann::json bad = good;
  bad["recipe"]["scheme"]["gamma"] = 0.5;
  auto r = read_recipe(bad);
  REQUIRE(!r.is_ok());
  CHECK(r.status().message().find("configuration") != std::string::npos);
}

// A scratch directory holding a watermark key (k.key) and a signing key pair (s.key, s.key.pub); commands run there
// with relative paths. The cases of each kind of bundle derive from it and add their inputs.
struct BundleCase {
  ScratchDir dir;

  explicit BundleCase(const std::string& tag) : dir(tag) {
    write_fixed_key(0x5a, dir.path("k.key"));
    REQUIRE(run("keygen --signing --out s.key").exit_code == 0);
  }

  CommandResult run(const std::string& args) const {
    return run_command("cd " + shell_quote(dir.str()) + " && " + telltale_binary() + " " + args);
  }
  // The `report verify` command line for `bundle` (add --key to re-run).
  std::string verify(const std::string& bundle) const {
    return telltale_binary() + " report verify " + shell_quote(dir.path(bundle)) + " --pubkey " +
           shell_quote(dir.path("s.key.pub"));
  }
  // `report verify --key` of `bundle` with the watermark key file `key_file`, from wherever the test runs: the
  // recorded paths resolve in this directory (--base), the tokenizer lies in the model directory (--allow-dir).
  std::string rerun(const std::string& bundle, const std::string& key_file) const {
    return verify(bundle) + " --key " + shell_quote(dir.path(key_file)) + " --base " + shell_quote(dir.str()) +
           " --allow-dir " + shell_quote(kModelDir);
  }
  evidence::SigningPublicKey public_key() const {
    auto k = evidence::parse_public_key(slurp(dir.path("s.key.pub")));
    REQUIRE(k.is_ok());
    return *k;
  }
  KeyRing key() const {
    auto k = read_key_file(dir.path("k.key"));
    REQUIRE(k.is_ok());
    return std::move(k).value();
  }
  // Every single-byte change of bundle b is caught naming the file: every position from memory, and `on_disk`
  // random positions changed on disk (random values drawn from `seed`).
  void check_byte_changes(uint32_t seed, int on_disk) const {
    const std::string bundle = dir.path("b");
    auto files = evidence::read_bundle_files(bundle);
    REQUIRE(files.is_ok());
    REQUIRE(files->size() == 4);
    std::mt19937 rng(seed);
    CHECK(check_every_byte_change_is_caught(bundle, *files, public_key(), rng) > 5000);
    check_byte_changes_on_disk(bundle, *files, public_key(), rng, on_disk);
  }
  // Neither `made` (the command that wrote bundle b, named `what`), nor `report html` and `report verify --key` of
  // it, nor the bundle holds key material; the record does hold the public key id (so the search saw real content).
  void check_no_secret_after(const std::string& what, const CommandResult& made) const {
    const auto rendered = run("report html b --pubkey s.key.pub -o again.html");
    REQUIRE(rendered.exit_code == 0);
    const auto verified = run("report verify b --pubkey s.key.pub --key k.key --allow-dir " + shell_quote(kModelDir));
    REQUIRE(verified.exit_code == 0);
    check_no_secret_in({{what, made.out + made.err},
                        {"report html output", rendered.out + rendered.err},
                        {"report verify output", verified.out + verified.err},
                        {"again.html", slurp(dir.path("again.html"))}},
                       dir.path("b"), slurp(dir.path("k.key")), slurp(dir.path("s.key")));
    CHECK(slurp(std::filesystem::path(dir.path("b")) / "record.json").find(key().key_id_hex()) != std::string::npos);
  }
  // Runs reproduce with k.key from the directory the record's relative paths resolve in.
  Result<std::string> reproduce(const nlohmann::json& record) const {
    const std::filesystem::path before = std::filesystem::current_path();
    std::filesystem::current_path(dir.str());
    std::vector<KeyRing> ring;
    ring.push_back(key());
    auto r = evidence::reproduce(record, ring, 1);
    std::filesystem::current_path(before);
    return r;
  }
  // The record of bundle b, read and parsed by the strict reader, of the test `kind`.
  nlohmann::json parsed_record(evidence::TestKind kind) const {
    auto record = evidence::parse_record(slurp(std::filesystem::path(dir.path("b")) / evidence::kRecordFile));
    REQUIRE(record.is_ok());
    CHECK(evidence::test_kind(*record) == kind);
    return *record;
  }
  // The refusals every command that writes a bundle shares, in one line with exit 2, each before any work and
  // writing nothing: the --bundle/--signing-key pair incomplete, a signing key that is not one, an existing bundle
  // directory (b is left existing and empty). `command(options)` runs the command with `options` added to the rest
  // of its arguments.
  template <typename Command>
  void check_bundle_options_refused(const Command& command) const {
    auto refused = [&command](const std::string& options, const std::string& expect) {
      check_refused(options, command(options), expect);
    };
    refused("--bundle b", "--bundle and --signing-key go together");
    refused("--signing-key s.key", "--bundle and --signing-key go together");
    refused("--bundle b --signing-key k.key", "bad magic");
    CHECK(!std::filesystem::exists(dir.path("b")));
    std::filesystem::create_directory(dir.path("b"));
    refused("--bundle b --signing-key s.key", "b: already exists");
    CHECK(std::filesystem::is_empty(dir.path("b")));
  }
};

}  // namespace telltale::test
