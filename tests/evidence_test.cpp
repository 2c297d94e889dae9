// Evidence bundles: signing keys, the signed bundle and its verification (every single-byte change is caught and the
// file named), the re-run that confirms every number, the record's reader, no key material in any output byte, and
// the HTML report rendered by headless Chromium.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bundle_test_support.hpp"
#include "chromium_render.hpp"
#include "evidence/bundle.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/html_report.hpp"
#include "evidence/record.hpp"
#include "evidence/signing_key.hpp"
#include "run_command.hpp"
#include "telltale/keyring.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace telltale::test;

namespace {

// A small case: two watermarked texts and a piece of Austen, a watermark key and a signing key pair, and a bundle
// made by `detect --bundle` from inside `dir` with relative paths (as an analyst would type it).
struct Fixture {
  fs::path dir;
  fs::path bundle;
  fs::path pubkey;
  fs::path key;
  std::string detect_out, detect_err;

  explicit Fixture(const std::string& name, const std::string& extra = "--window 16") {
    dir = fs::temp_directory_path() / ("telltale-evidence-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "texts");
    key = dir / "wm.key";
    pubkey = dir / "sign.key.pub";
    bundle = dir / "bundle";
    const std::string t = telltale_binary();
    const std::string cd = "cd " + shell_quote(dir.string()) + " && ";
    REQUIRE(run_command(cd + t + " keygen --out wm.key").exit_code == 0);
    REQUIRE(run_command(cd + t + " keygen --signing --out sign.key").exit_code == 0);
    const auto gen = run_command(cd + t + " generate --key wm.key -m " + shell_quote(model_file("stories260K.bin")) +
                                 " -t " + shell_quote(model_file("tok512.model")) + " -n 80 -c 2 --jsonl");
    REQUIRE(gen.exit_code == 0);
    write_text(dir / "texts" / "gen.jsonl", gen.out);
    std::ifstream austen(std::string(telltale::test::kSharedDir) + "/corpora/austen_6novels.txt", std::ios::binary);
    std::string human(1200, '\0');
    austen.read(human.data(), static_cast<std::streamsize>(human.size()));
    write_text(dir / "texts" / "human.txt", human);
    const auto r = run_command(cd + t + " detect -q --key wm.key -t " + shell_quote(model_file("tok512.model")) +
                               " --field completion " + extra + " --bundle bundle --signing-key sign.key texts");
    INFO("detect: " << r.err);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    detect_out = r.out;
    detect_err = r.err;
  }
  ~Fixture() { fs::remove_all(dir); }

  telltale::evidence::SigningPublicKey public_key() const {
    auto k = telltale::evidence::parse_public_key(slurp(pubkey));
    REQUIRE(k.is_ok());
    return *k;
  }
};

}  // namespace

TEST_CASE("keygen --signing makes a private signing key and a public key file; an exposed signing key is refused",
          "[evidence]") {
  const fs::path dir = fs::temp_directory_path() / ("telltale-evidence-keys-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string k = shell_quote((dir / "s.key").string());
  const auto r = run_command(telltale_binary() + " keygen --signing --out " + k);
  REQUIRE(r.exit_code == 0);
  struct stat st {};
  REQUIRE(::stat((dir / "s.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(fs::file_size(dir / "s.key") == 80);
  CHECK(slurp(dir / "s.key").substr(0, 8) == "TTSIGv1\n");
  auto pub = telltale::evidence::parse_public_key(slurp(dir / "s.key.pub"));
  REQUIRE(pub.is_ok());
  CHECK(json::parse(r.out)["public_key_id"] == telltale::evidence::public_key_id(*pub));
  SECTION("never overwrites") {
    const auto again = run_command(telltale_binary() + " keygen --signing --out " + k);
    CHECK(again.exit_code == 2);
    CHECK(one_line_error(again.err));
  }
  SECTION("a group-readable signing key is refused, naming the file") {
    ::chmod((dir / "s.key").c_str(), 0640);
    auto key = telltale::evidence::SigningKey::read((dir / "s.key").string());
    REQUIRE(!key.is_ok());
    CHECK(key.status().message().find("permissions") != std::string::npos);
    CHECK(key.status().message().find((dir / "s.key").string()) != std::string::npos);
  }
  SECTION("a watermark key file is not a signing key") {
    REQUIRE(run_command(telltale_binary() + " keygen --out " + shell_quote((dir / "w.key").string())).exit_code == 0);
    auto key = telltale::evidence::SigningKey::read((dir / "w.key").string());
    REQUIRE(!key.is_ok());
    CHECK(key.status().message().find("bad magic") != std::string::npos);
  }
  SECTION("keyinfo publishes the signing public key beside the key id and configuration") {
    REQUIRE(run_command(telltale_binary() + " keygen --out " + shell_quote((dir / "w.key").string())).exit_code == 0);
    const auto info = run_command(telltale_binary() + " keyinfo --key " + shell_quote((dir / "w.key").string()) +
                                  " --vocab-size 512 --signing-pubkey " + shell_quote((dir / "s.key.pub").string()));
    REQUIRE(info.exit_code == 0);
    const json j = json::parse(info.out);
    CHECK(j["evidence_signing_key"]["public_key_id"] == telltale::evidence::public_key_id(*pub));
    CHECK(j["configuration"].get<std::string>().find("scheme=kgw") == 0);
    CHECK(j.contains("key_id"));
  }
  fs::remove_all(dir);
}

TEST_CASE("a bundle verifies, and the re-run on the recorded inputs confirms every number", "[evidence]") {
  Fixture f("rerun");
  const std::string verify = telltale_binary() + " report verify " + shell_quote(f.bundle.string()) + " --pubkey " +
                             shell_quote(f.pubkey.string());
  const auto plain = run_command(verify);
  INFO("stderr: " << plain.err);
  REQUIRE(plain.exit_code == 0);
  CHECK(json::parse(plain.out)["rerun"].get<std::string>().find("skipped") == 0);
  CHECK(json::parse(plain.out)["test"] == "detection");

  // From another directory: relative inputs resolve in --base, the tokenizer lies in an --allow-dir.
  const std::string dirs =
      " --base " + shell_quote(f.dir.string()) + " --allow-dir " + shell_quote(telltale::test::kModelDir);
  const auto full = run_command("cd / && " + verify + " --key " + shell_quote(f.key.string()) + dirs);
  INFO("stderr: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["rerun"].get<std::string>().find("identical") != std::string::npos);

  auto record = telltale::evidence::verify_bundle(f.bundle.string(), f.public_key());
  REQUIRE(record.is_ok());
  SECTION("the evidence curve ends at the reported pooled test") {
    const json& points = (*record)["plots"][0]["curve"]["points"];
    REQUIRE(!points.empty());
    CHECK(points.back()[1] == (*record)["result"]["analyses"][0]["pooled"]["scored_tokens"]);
    CHECK(points.back()[2] == (*record)["result"]["analyses"][0]["pooled"]["log10_p_value"]);
    CHECK((*record)["input_files"].size() == 2);
    CHECK((*record)["documents"].size() == 3);
  }
  SECTION("a changed input is named and fails the re-run") {
    write_text(f.dir / "texts" / "human.txt", "Not the text that was tested.\n");
    const auto r = run_command(verify + " --key " + shell_quote(f.key.string()) + dirs);
    CHECK(r.exit_code == 2);
    CHECK(one_line_error(r.err));
    CHECK(r.err.find("texts/human.txt") != std::string::npos);
  }
  SECTION("numbers altered in a record are caught by the re-run even when the record is signed again") {
    json forged = *record;
    forged["result"]["analyses"][0]["pooled"]["statistic"] = 10000;
    const fs::path before = fs::current_path();
    fs::current_path(f.dir);  // the record's inputs are relative to where detect ran
    auto keys = telltale::read_key_file(f.key.string());
    REQUIRE(keys.is_ok());
    std::vector<telltale::KeyRing> ring;
    ring.push_back(std::move(keys).value());
    auto honest = telltale::evidence::reproduce(*record, ring, 1);
    CHECK(honest.is_ok());
    auto caught = telltale::evidence::reproduce(forged, ring, 1);
    REQUIRE(!caught.is_ok());
    CHECK(caught.status().message().find("/result/analyses/0/pooled/statistic") != std::string::npos);
    fs::current_path(before);
  }
}

TEST_CASE("any single-byte change to any file of a bundle makes verification fail naming the file", "[evidence]") {
  Fixture f("bytes", "--window 0");
  const auto key = f.public_key();
  const std::string dir = f.bundle.string();
  auto files = telltale::evidence::read_bundle_files(dir);
  REQUIRE(files.is_ok());
  REQUIRE(files->size() == 4);
  REQUIRE(telltale::evidence::verify_bundle_files(dir, *files, key).is_ok());
  std::mt19937 rng(7);
  SECTION("every byte position of every file, verified from memory") {
    const size_t checked = telltale::test::check_every_byte_change_is_caught(dir, *files, key, rng);
    INFO("positions checked: " << checked);
    CHECK(checked > 5000);
  }
  SECTION("a random sample of positions, changed on disk") {
    telltale::test::check_byte_changes_on_disk(f.bundle, *files, key, rng, 40);
  }
  SECTION("a truncated or extended file, an added file and a missing file are named") {
    const fs::path record = f.bundle / telltale::evidence::kRecordFile;
    const std::string original = slurp(record);
    write_text(record, original + " ");
    auto r = telltale::evidence::verify_bundle(f.bundle.string(), key);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find("record.json") != std::string::npos);
    write_text(record, original);
    write_text(f.bundle / "extra.txt", "x");
    r = telltale::evidence::verify_bundle(f.bundle.string(), key);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find("extra.txt") != std::string::npos);
    fs::remove(f.bundle / "extra.txt");
    fs::remove(f.bundle / telltale::evidence::kReportFile);
    r = telltale::evidence::verify_bundle(f.bundle.string(), key);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find("report.html") != std::string::npos);
  }
  SECTION("the command line says it in one line, exit code 2") {
    const fs::path report = f.bundle / telltale::evidence::kReportFile;
    std::string changed = slurp(report);
    changed[changed.size() / 2] ^= 0x01;
    write_text(report, changed);
    const auto r = run_command(telltale_binary() + " report verify " + shell_quote(f.bundle.string()) + " --pubkey " +
                               shell_quote(f.pubkey.string()));
    CHECK(r.exit_code == 2);
    CHECK(one_line_error(r.err));
    CHECK(r.err.find("report.html") != std::string::npos);
  }
  SECTION("another signer's public key is refused") {
    auto other = telltale::evidence::SigningKey::generate();
    REQUIRE(other.is_ok());
    auto r = telltale::evidence::verify_bundle(f.bundle.string(), other->public_key());
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find("signature does not verify") != std::string::npos);
  }
}

TEST_CASE("the bundle, the report and the command output never contain the secret key or a derived subkey",
          "[evidence][keys]") {
  Fixture f("leak");
  const std::string wm = slurp(f.key);
  const std::string signing = slurp(f.dir / "sign.key");
  const fs::path html = f.dir / "again.html";
  const auto rendered =
      run_command(telltale_binary() + " report html " + shell_quote(f.bundle.string()) + " --pubkey " +
                  shell_quote(f.pubkey.string()) + " -o " + shell_quote(html.string()));
  REQUIRE(rendered.exit_code == 0);
  const auto verified =
      run_command(telltale_binary() + " report verify " + shell_quote(f.bundle.string()) + " --pubkey " +
                  shell_quote(f.pubkey.string()) + " --key " + shell_quote(f.key.string()) + " --base " +
                  shell_quote(f.dir.string()) + " --allow-dir " + shell_quote(telltale::test::kModelDir));
  REQUIRE(verified.exit_code == 0);
  telltale::test::check_no_secret_in({{"detect output", f.detect_out + f.detect_err},
                                      {"report html output", rendered.out + rendered.err},
                                      {"report verify output", verified.out + verified.err},
                                      {"again.html", slurp(html)}},
                                     f.bundle, wm, signing);
  // The public ids are there, so the search looked at the real content.
  const std::string record = slurp(f.bundle / telltale::evidence::kRecordFile);
  auto ring =
      telltale::KeyRing::parse(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(wm.data()), wm.size()));
  REQUIRE(ring.is_ok());
  CHECK(record.find(ring->key_id_hex()) != std::string::npos);
}

TEST_CASE("the record reader refuses malformed records with a message naming the field", "[evidence]") {
  Fixture f("reader", "--window 0");
  const std::string text = slurp(f.bundle / telltale::evidence::kRecordFile);
  auto good = telltale::evidence::parse_record(text);
  REQUIRE(good.is_ok());
  auto html = telltale::evidence::render_html_report(*good);
  REQUIRE(html.is_ok());
  CHECK(html->find("id=\"verdict\"") != std::string::npos);

  telltale::test::check_damaged_records_refused(
      *good, {
                 {"/format", "telltale-evidence-0", false, "format"},
                 {"/software/executable_sha256", "abc", false, "/software/executable_sha256"},
                 {"/result/p_value", "small", false, "/result/p_value"},
                 {"/recipe/scheme/layers", -1, false, "/recipe/scheme/layers"},
                 {"/watermark_keys", json::array(), false, "/watermark_keys"},
                 {"/documents", nullptr, true, "/documents"},
                 {"/plots/0/curve/points", json::array({json::array({1, 2})}), false, "/plots/0/curve/points"},
             });
  CHECK(!telltale::evidence::parse_record("{").is_ok());
  CHECK(!telltale::evidence::parse_record("[]").is_ok());
  SECTION("a recipe whose parameters do not give its configuration is refused") {
    telltale::test::check_configuration_mismatch_refused(
        *good, [](const json& record) { return telltale::evidence::recipe_from_json(record); });
  }
}

TEST_CASE("once_in puts a p-value in words", "[evidence]") {
  CHECK(telltale::evidence::once_in(-2) == "about once in 100");
  CHECK(telltale::evidence::once_in(-4) == "about once in 10 thousand");
  CHECK(telltale::evidence::once_in(-6.5) == "about once in 3 million");
  CHECK(telltale::evidence::once_in(-45.2).find("10^45") != std::string::npos);
}

TEST_CASE(
    "the HTML report renders in headless Chromium to PNG and PDF with its verdict and plots, no error and no "
    "network request",
    "[evidence][chromium]") {
  const std::string chromium = telltale::test::find_chromium();
  if (chromium.empty()) return;  // find_chromium warned
  Fixture f("render");
  const telltale::test::Rendering r =
      telltale::test::render(chromium, f.bundle / telltale::evidence::kReportFile, f.dir / "chromium");
  telltale::test::check_clean_rendering(r, f.dir / "chromium");
  // The verdict sentence and every plot are in the rendered document.
  CHECK(r.dom.find("id=\"verdict\"") != std::string::npos);
  CHECK((r.dom.find("was detected in the tested text") != std::string::npos ||
         r.dom.find("was not detected in the tested text") != std::string::npos));
  // "about once in N", or "in about N% of cases" for a p-value of 0.01 or more.
  CHECK((r.dom.find("would happen about once in") != std::string::npos ||
         r.dom.find("would happen in about") != std::string::npos));
  for (const char* plot : {"plot-scores", "plot-documents", "plot-curve", "plot-window"}) {
    INFO("plot: " << plot);
    CHECK(r.dom.find(std::string("<svg id=\"") + plot + "\"") != std::string::npos);
  }

  SECTION("the same check sees a page that does make a request") {
    write_text(f.dir / "canary.html",
               "<!DOCTYPE html><html><body><img src=\"http://canary.invalid/x.png\"><p>canary</p></body></html>");
    const telltale::test::Rendering c = telltale::test::render(chromium, f.dir / "canary.html", f.dir / "canary");
    REQUIRE(c.run.exit_code == 0);
    REQUIRE(c.requests.size() >= 1);
    CHECK(c.requests[0] == "http://canary.invalid/x.png");
  }
}
