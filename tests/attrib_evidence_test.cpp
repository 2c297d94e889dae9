// Evidence bundles of attributions (`attribute --bundle`): written and verified by the same code as detect's, re-run
// by `report verify --key` with every number compared, every single-byte change caught, a changed input or registry
// named, no key material in any output, the record's reader strict about the attribution fields, and bad flag
// combinations refused in one line.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "attrib_test_inputs.hpp"
#include "bundle_test_support.hpp"
#include "chromium_render.hpp"
#include "evidence/attrib_evidence.hpp"
#include "evidence/bundle.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/record.hpp"
#include "run_command.hpp"
#include "telltale/keyring.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace telltale::test;

std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

// A small case: the keys of BundleCase, two fingerprinted stories of account 77 and one of account 4000000000
// (JSONL), a registry of 202 accounts and a human text.
struct AttribCase : telltale::test::BundleCase {
  AttribCase() : BundleCase("attrib-evidence") {
    dir.file("texts.jsonl", telltale::test::fingerprinted_texts([this](const std::string& c) { return run(c); }, 300));
    dir.file("reg.txt", telltale::test::registry_text(1000, 1200));
    dir.file("human.txt",
             "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
             "must be in want of a wife.");
  }

  // `attribute` with the key, tokenizer and registry, and `rest`.
  telltale::test::CommandResult attribute(const std::string& rest) const {
    return run("attribute -q -k k.key -t " + tok() + " -r reg.txt " + rest);
  }
};

// The report's verdict paragraph.
std::string verdict_of(const std::string& html) {
  const size_t at = html.find("id=\"verdict\"");
  return at == std::string::npos ? std::string() : html.substr(at, html.find("</p>", at) - at);
}

}  // namespace

TEST_CASE("an attribution bundle verifies, and the re-run on the recorded files confirms every number",
          "[evidence][attribution]") {
  AttribCase c;
  const auto plain_run = c.attribute("-f completion texts.jsonl");
  const auto attributed = c.attribute("-f completion --bundle b --signing-key s.key texts.jsonl");
  INFO("stderr: " << attributed.err);
  REQUIRE(attributed.exit_code == 0);
  CHECK(attributed.err.find("evidence bundle written to b") != std::string::npos);
  // The bundle changes nothing of what is printed, nor the exit code.
  CHECK(attributed.out == plain_run.out);
  CHECK(plain_run.exit_code == 0);

  const auto plain = telltale::test::run_command(c.verify("b"));
  INFO("verify: " << plain.err);
  REQUIRE(plain.exit_code == 0);
  CHECK(json::parse(plain.out)["test"] == "attribution");
  CHECK(json::parse(plain.out)["attributed"] == true);
  CHECK(json::parse(plain.out)["rerun"].get<std::string>().find("skipped") == 0);
  const auto full = telltale::test::run_command("cd / && " + c.rerun("b", "k.key"));
  INFO("verify --key: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["rerun"].get<std::string>().find("identical") != std::string::npos);

  auto record = telltale::evidence::verify_bundle(c.dir.path("b"), c.public_key());
  REQUIRE(record.is_ok());
  const json& r = *record;
  SECTION("the record holds the printed result, the recipe, the files read (registry included) and the plot") {
    CHECK(r["test"] == "attribution");
    CHECK(r["result"] == json::parse(attributed.out));
    CHECK(r["recipe"]["registry"] == "reg.txt");
    CHECK(r["recipe"]["top"] == 3);
    CHECK(r["recipe"]["field"] == "completion");
    CHECK(r["recipe"]["scheme"]["name"] == "fingerprint");
    CHECK(r["recipe"]["scheme"].contains("account_delta"));
    REQUIRE(r["input_files"].size() == 2);
    CHECK(r["input_files"][0]["path"] == "texts.jsonl");
    CHECK(r["input_files"][1]["path"] == "reg.txt");
    CHECK(r["input_files"][1]["bytes"] == fs::file_size(c.dir.path("reg.txt")));
    const json& points = r["plots"][0]["curve"]["points"];
    REQUIRE(points.size() == 3);
    CHECK(points[0][1] == 77);
    CHECK(points[2][1] == 4000000000u);
  }
  SECTION("the report names the accounts, how sure, the family-wise meaning and the limits, in plain words") {
    const std::string html = slurp(fs::path(c.dir.path("b")) / telltale::evidence::kReportFile);
    // The accused accounts are named strongest first, and the keys (hence the texts) are drawn afresh each run.
    CHECK(verdict_of(html).find("carries the fingerprint of registered account") != std::string::npos);
    CHECK(verdict_of(html).find("account 77") != std::string::npos);
    CHECK(html.find("a result at least this extreme would happen about once in") != std::string::npos);
    CHECK(html.find("With 202 registered accounts, an innocent account is named with probability at most 0.001") !=
          std::string::npos);
    CHECK(html.find("not who wrote or leaked it") != std::string::npos);
    CHECK(html.find("account delta") != std::string::npos);
    CHECK(html.find("<svg id=\"plot-documents\"") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("http://") == std::string::npos);
    const auto again = c.run("report html b --pubkey s.key.pub -o again.html");
    INFO("report html: " << again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(slurp(c.dir.path("again.html")) == html);
  }
  SECTION("a changed input or registry file makes the re-run fail, naming it") {
    for (const char* name : {"texts.jsonl", "reg.txt"}) {
      const std::string original = slurp(c.dir.path(name));
      c.dir.file(name, original + "\n");
      const auto rerun = telltale::test::run_command(c.rerun("b", "k.key"));
      INFO(name << ": " << rerun.err);
      CHECK(rerun.exit_code == 2);
      CHECK(one_line_error(rerun.err));
      CHECK(rerun.err.find(std::string(name) + ": SHA-256") != std::string::npos);
      c.dir.file(name, original);
    }
  }
  SECTION("numbers altered in a record are caught by the re-run even when the record is signed again") {
    CHECK(c.reproduce(r).is_ok());
    json forged = r;
    forged["result"]["accusations"][0]["matches"] = 1;
    auto caught = c.reproduce(forged);
    REQUIRE(!caught.is_ok());
    CHECK(caught.status().message() == "the re-run differs from the record in /result/accusations/0/matches");
    forged = r;
    forged["plots"][0]["curve"]["points"][0][1] = 5;
    caught = c.reproduce(forged);
    REQUIRE(!caught.is_ok());
    CHECK(caught.status().message() == "the re-run differs from the record in /plots/0/curve/points/0/1");
  }
}

TEST_CASE("an attribution bundle of a human text, attributed to no account, verifies and re-runs",
          "[evidence][attribution]") {
  AttribCase c;
  const auto none = c.attribute("--bundle b --signing-key s.key human.txt");
  INFO("stderr: " << none.err);
  REQUIRE(none.exit_code == 1);
  const auto full = telltale::test::run_command(c.rerun("b", "k.key"));
  INFO("verify --key: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["attributed"] == false);
  const std::string html = slurp(fs::path(c.dir.path("b")) / telltale::evidence::kReportFile);
  CHECK(html.find("is not attributed to any of the 202 registered accounts") != std::string::npos);
}

TEST_CASE("any single-byte change to an attribution bundle makes verification fail naming the file",
          "[evidence][attribution]") {
  AttribCase c;
  REQUIRE(c.attribute("-f completion --bundle b --signing-key s.key texts.jsonl").exit_code == 0);
  c.check_byte_changes(13, 20);
}

TEST_CASE(
    "an attribution bundle, its report and the command output never contain the secret key or a derived "
    "subkey",
    "[evidence][attribution][keys]") {
  AttribCase c;
  const auto attributed = c.attribute("-f completion --per-doc --bundle b --signing-key s.key texts.jsonl");
  REQUIRE(attributed.exit_code == 0);
  c.check_no_secret_after("attribute output", attributed);
}

TEST_CASE("the record reader refuses malformed attribution records with a message naming the field",
          "[evidence][attribution]") {
  AttribCase c;
  REQUIRE(c.attribute("-f completion --bundle b --signing-key s.key texts.jsonl").exit_code == 0);
  const json good = c.parsed_record(telltale::evidence::TestKind::kAttribution);
  CHECK(telltale::evidence::attrib_recipe_from_json(good).is_ok());
  telltale::test::check_damaged_records_refused(
      good, {
                {"/test", "attributions", false, "/test"},
                {"/recipe/registry", nullptr, true, "/recipe/registry"},
                {"/recipe/top", -1, false, "/recipe/top"},
                {"/recipe/inputs", "texts.jsonl", false, "/recipe/inputs"},
                {"/result/attributed", "yes", false, "/result/attributed"},
                {"/result/accusations", nullptr, true, "/result/accusations"},
                {"/result/accusations/0/account", "77", false, "/result/accusations/0/account"},
                {"/result/zero_bit", nullptr, true, "/result/zero_bit"},
                {"/plots/0/curve/points", json::array({json::array({1, 2})}), false, "/plots/0/curve/points"},
                {"/input_files/1/sha256", "abc", false, "/input_files/1/sha256"},
                {"/test", nullptr, true, "missing field /result/scored_tokens"},  // read as a detection record
            });
  SECTION("a recipe whose parameters do not give its configuration is refused") {
    telltale::test::check_configuration_mismatch_refused(
        good, [](const json& record) { return telltale::evidence::attrib_recipe_from_json(record); });
    json bad = good;
    bad["recipe"]["scheme"]["account_delta"] = 9.0;
    auto r = telltale::evidence::attrib_recipe_from_json(bad);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find("configuration") != std::string::npos);
  }
}

TEST_CASE("attribute refuses bad bundle options in one line, exit 2, writing nothing", "[evidence][attribution]") {
  AttribCase c;
  const std::string piped = "--bundle b --signing-key s.key - < human.txt";
  telltale::test::check_refused(piped, c.attribute(piped), "not stdin");
  c.check_bundle_options_refused([&c](const std::string& options) { return c.attribute(options + " human.txt"); });
  // Refused before any work: the missing registry is not even opened.
  const std::string early =
      "attribute -q -k k.key -t " + tok() + " -r missing.txt --bundle b --signing-key s.key human.txt";
  telltale::test::check_refused(early, c.run(early), "b: already exists");
  CHECK(fs::is_empty(c.dir.path("b")));
}

TEST_CASE(
    "the attribution report renders in headless Chromium with its verdict, meaning, family-wise bound, limits "
    "and plot, no error and no network request",
    "[evidence][attribution][chromium]") {
  AttribCase c;
  REQUIRE(c.attribute("-f completion --bundle b --signing-key s.key texts.jsonl").exit_code == 0);
  const auto rendered = telltale::test::render_report(c.dir.path("b"), fs::path(c.dir.str()) / "chromium");
  if (!rendered) return;  // no Chromium here
  const telltale::test::Rendering& r = *rendered;
  for (const char* id : {"verdict", "meaning", "family", "limits"}) {
    INFO("element: " << id);
    CHECK(r.dom.find(std::string("id=\"") + id + "\"") != std::string::npos);
  }
  CHECK(verdict_of(r.dom).find("carries the fingerprint of registered account") != std::string::npos);
  CHECK(verdict_of(r.dom).find("account 77") != std::string::npos);
  CHECK(r.dom.find("<svg id=\"plot-documents\"") != std::string::npos);
}

TEST_CASE("a detection bundle of the fingerprint scheme records its account delta and re-runs",
          "[evidence][attribution]") {
  AttribCase c;
  const auto detected = c.run("detect -q -k k.key -t " + tok() +
                              " --scheme fingerprint -f completion --bundle d --signing-key s.key "
                              "texts.jsonl");
  INFO("stderr: " << detected.err);
  REQUIRE(detected.exit_code == 0);
  const json record = json::parse(slurp(fs::path(c.dir.path("d")) / telltale::evidence::kRecordFile));
  CHECK(record["recipe"]["scheme"]["name"] == "fingerprint");
  CHECK(record["recipe"]["scheme"].contains("account_delta"));
  const auto full = telltale::test::run_command(c.rerun("d", "k.key"));
  INFO("verify --key: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["test"] == "detection");
}
