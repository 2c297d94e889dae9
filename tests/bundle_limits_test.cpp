// The limits under which bundles are read (spec/evidence-bundle.md, "Limits" and "Re-running"): a deep or oversized
// record, a symbolic link, a FIFO, an extra file or a repeated manifest entry are refused in one line, and a hostile
// signed record cannot make `report verify --key` read, hash or print a file outside the directories it was given.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bundle_test_support.hpp"
#include "evidence/json_limits.hpp"
#include "input/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace telltale::test;

// A bundle `name` in `dir` holding `record` (any bytes), signed with a fresh key whose public key is `name`.pub.
telltale::evidence::SigningKey write_raw_bundle(const telltale::test::ScratchDir& dir, const std::string& name,
                                                const std::string& record) {
  auto key = telltale::evidence::SigningKey::generate();
  REQUIRE(key.is_ok());
  REQUIRE(telltale::evidence::write_bundle(dir.path(name), record, "<!DOCTYPE html>\n", *key).is_ok());
  dir.file(name + ".pub", telltale::evidence::public_key_text(key->public_key()));
  return std::move(key).value();
}

std::string deep_record(size_t depth) {
  return "{\"format\": \"telltale-evidence-1\", \"x\": " + std::string(depth, '[') + std::string(depth, ']') + "}\n";
}

// The manifest of bundle `dir` replaced by `manifest`, signed again with `key`.
void resign_manifest(const fs::path& dir, const json& manifest, const telltale::evidence::SigningKey& key) {
  const std::string text = manifest.dump(2) + "\n";
  const auto sig = key.sign({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  telltale::test::write_text(dir / telltale::evidence::kManifestFile, text);
  telltale::test::write_text(dir / telltale::evidence::kSignatureFile, telltale::evidence::to_hex(sig) + "\n");
}

std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

}  // namespace

TEST_CASE("a signed record nested 100,000 deep is refused in one line by report html and report verify",
          "[evidence][integrity]") {
  telltale::test::ScratchDir dir("bundle-deep");
  write_raw_bundle(dir, "b", deep_record(100000));
  const std::string t = telltale::test::telltale_binary();
  const std::string common = " " + shell_quote(dir.path("b")) + " --pubkey " + shell_quote(dir.path("b.pub"));
  const std::string expect = "record.json: nested deeper than 64 levels";
  check_refused("report html", telltale::test::run_command(t + " report html" + common + " -o " + dir.path("r.html")),
                expect);
  check_refused("report verify", telltale::test::run_command(t + " report verify" + common), expect);
  CHECK(!fs::exists(dir.path("r.html")));
  // The limit itself: 64 levels parse as far as the structure check, 65 do not.
  CHECK(telltale::evidence::parse_record(deep_record(63)).status().message().find("nested") == std::string::npos);
  CHECK(telltale::evidence::parse_record(deep_record(64)).status().message() == "record.json: " + expect.substr(13));
  CHECK(telltale::evidence::check_json_depth("[\"[[[[\"]", "x").is_ok());  // brackets inside strings do not count
}

TEST_CASE("bundle files that are too large, links, FIFOs, added or listed twice are refused naming them",
          "[evidence][integrity]") {
  telltale::test::ScratchDir dir("bundle-files");
  const auto key = write_raw_bundle(dir, "b", "{}\n");
  const fs::path b = dir.path("b");
  const std::string record = (b / "record.json").string();
  REQUIRE(telltale::evidence::read_bundle_files(b.string()).is_ok());
  auto refused = [&](const std::string& expect) {
    auto r = telltale::evidence::verify_bundle(b.string(), key.public_key());
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find(expect) != std::string::npos);
  };
  SECTION("a record larger than the limit, before it is read") {
    REQUIRE(::truncate(record.c_str(), static_cast<off_t>(telltale::evidence::kMaxRecordBytes + 1)) == 0);
    refused(record + ": " + std::to_string(telltale::evidence::kMaxRecordBytes + 1) + " bytes, more than");
  }
  SECTION("a symbolic link to the very same bytes") {
    fs::rename(record, dir.path("elsewhere.json"));
    fs::create_symlink(dir.path("elsewhere.json"), record);
    refused(record + ": a symbolic link, not a regular file");
  }
  SECTION("a FIFO, without waiting for a writer") {
    fs::remove(record);
    REQUIRE(::mkfifo(record.c_str(), 0600) == 0);
    refused(record + ": not a regular file");
  }
  SECTION("an added file") {
    telltale::test::write_text(b / "notes.txt", "x");
    refused((b / "notes.txt").string() + ": not part of a bundle");
  }
  SECTION("a manifest listing a file twice, signed again") {
    json manifest = json::parse(slurp(b / telltale::evidence::kManifestFile));
    manifest["files"].push_back(manifest["files"][0]);
    resign_manifest(b, manifest, key);
    refused("lists 'record.json' more than once");
  }
}

TEST_CASE("report verify --key reads only files inside --base and --allow-dir, never printing another file's hash",
          "[evidence][integrity][cli]") {
  telltale::test::BundleCase c("bundle-paths");
  telltale::test::ScratchDir outside("bundle-outside");
  const std::string secret = "not for the signer's eyes\n";
  outside.file("secret.txt", secret);
  std::ifstream austen(std::string(telltale::test::kSharedDir) + "/corpora/austen_6novels.txt", std::ios::binary);
  std::string human(1500, '\0');
  austen.read(human.data(), static_cast<std::streamsize>(human.size()));
  c.dir.file("a.txt", human);
  const auto made = c.run("detect -q --key k.key -t " + shell_quote(tok()) + " --bundle b --signing-key s.key a.txt");
  INFO("detect: " << made.err);
  REQUIRE(made.exit_code == 1);
  const std::string rerun = " --key " + shell_quote(c.dir.path("k.key"));
  const std::string dirs = " --base " + shell_quote(c.dir.str()) + " --allow-dir " + telltale::test::kModelDir;

  const auto honest = telltale::test::run_command("cd / && " + c.verify("b") + rerun + dirs);
  INFO("honest: " << honest.err);
  CHECK(honest.exit_code == 0);
  check_refused("tokenizer outside --base, no --allow-dir",
                telltale::test::run_command("cd / && " + c.verify("b") + rerun + " --base " + c.dir.str()),
                "record.json names '" + tok() + "', outside " + c.dir.str() + " (--base)");

  auto record = telltale::evidence::verify_bundle(c.dir.path("b"), c.public_key());
  REQUIRE(record.is_ok());
  auto signing = telltale::evidence::SigningKey::read(c.dir.path("s.key"));
  REQUIRE(signing.is_ok());
  const std::string html = slurp(fs::path(c.dir.path("b")) / telltale::evidence::kReportFile);
  const std::string secret_digest = telltale::input::sha256_hex(secret);
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"/input_files/0/path", outside.path("secret.txt")},
      {"/input_files/0/path", "/etc/shadow"},
      {"/input_files/0/path", "../" + fs::path(outside.str()).filename().string() + "/secret.txt"},
      {"/input_files/0/path", std::string("/etc/shadow\0/../..", 18) + c.dir.str() + "/a.txt"},
      {"/recipe/inputs/0", outside.path("secret.txt")},
      {"/tokenizer/path", outside.path("secret.txt")},
      {"/recipe/tokenizer", "/etc/passwd"},
  };
  int n = 0;
  for (const auto& [pointer, path] : hostile) {
    json forged = *record;
    forged[json::json_pointer(pointer)] = path;
    const std::string name = "h" + std::to_string(n++);
    REQUIRE(telltale::evidence::write_bundle(c.dir.path(name), forged.dump(1) + "\n", html, *signing).is_ok());
    const auto r = telltale::test::run_command(c.verify(name) + rerun + dirs);
    INFO(pointer << " = " << path << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK(telltale::test::one_line_error(r.err));
    CHECK(r.err.find("not read") != std::string::npos);
    CHECK(r.err.find(secret_digest) == std::string::npos);
    CHECK(r.out.empty());
  }
}
