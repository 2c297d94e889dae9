// `telltale generate --antidistill degrade|fingerprint --proxy P --lambda L`: the parameters in every JSONL line, and
// each bad input refused with one line and exit 2.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "antidistill_test_support.hpp"
#include "input/tokenizer.hpp"
#include "run_command.hpp"

namespace fs = std::filesystem;
using telltale::test::run_command;
using telltale::test::shell_quote;
using telltale::test::telltale_binary;

namespace {

struct CliFiles {
  fs::path dir;
  std::string key, base;  // base: generate with key, model, tokenizer, 40 tokens, JSONL
};

CliFiles cli_files(const std::string& name) {
  CliFiles f;
  f.dir = fs::temp_directory_path() / ("telltale-antidistill-cli-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(f.dir);
  fs::create_directories(f.dir);
  f.key = (f.dir / "k.key").string();
  REQUIRE(run_command(telltale_binary() + " keygen --out " + shell_quote(f.key)).exit_code == 0);
  f.base = telltale_binary() + " generate --key " + shell_quote(f.key) + " -m " +
           shell_quote(telltale::test::model_file("stories260K.bin")) + " -t " +
           shell_quote(telltale::test::model_file("tok512.model")) + " -n 40 --jsonl";
  return f;
}

std::vector<nlohmann::json> lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

}  // namespace

TEST_CASE("generate --antidistill records its mode, lambda and proxy files in every JSONL line", "[antidistill][cli]") {
  CliFiles f = cli_files("record");
  const std::string model = telltale::test::model_file("stories260K.bin");
  telltale::test::write_degrade_proxy(f.dir / "proxy", 1.2f, "0.02");
  const auto fp =
      run_command(f.base + " -c 2 --antidistill fingerprint --proxy " + shell_quote(model) + " --lambda 2.5");
  INFO(fp.err);
  REQUIRE(fp.exit_code == 0);
  const auto model_sha = telltale::input::sha256_file_hex(model);
  REQUIRE(model_sha);
  const auto fp_lines = lines(fp.out);
  REQUIRE(fp_lines.size() == 2);
  for (const auto& j : fp_lines) {
    CHECK(j.at("antidistill").at("mode") == "fingerprint");
    CHECK(j.at("antidistill").at("lambda").get<double>() == 2.5);
    CHECK(j.at("antidistill").at("proxy_sha256") == *model_sha);
    CHECK(j.at("watermarked") == true);
  }
  const auto dg = run_command(f.base + " --antidistill degrade --proxy " + shell_quote((f.dir / "proxy").string()) +
                              " --lambda 0.5");
  INFO(dg.err);
  REQUIRE(dg.exit_code == 0);
  const auto dg_line = lines(dg.out).at(0).at("antidistill");
  CHECK(dg_line.at("mode") == "degrade");
  CHECK(dg_line.at("eps").get<double>() == 0.02);
  CHECK(dg_line.at("plus.bin_sha256") == *model_sha);  // plus.bin is the reference model itself
  CHECK(dg_line.at("minus.bin_sha256") != *model_sha);
  // Without --antidistill nothing is recorded.
  const auto plain = run_command(f.base);
  REQUIRE(plain.exit_code == 0);
  CHECK_FALSE(lines(plain.out).at(0).contains("antidistill"));
  fs::remove_all(f.dir);
}

TEST_CASE("generate --antidistill refuses bad inputs with one line and exit 2", "[antidistill][cli][errors]") {
  CliFiles f = cli_files("bad");
  const std::string model = shell_quote(telltale::test::model_file("stories260K.bin"));
  telltale::test::write_tiny_model(f.dir / "tiny.bin", 16);
  const std::string tiny = shell_quote((f.dir / "tiny.bin").string());
  const std::string missing = shell_quote((f.dir / "missing.bin").string());
  const std::pair<const char*, std::string> cases[] = {
      {"a NaN lambda", " --antidistill fingerprint --proxy " + model + " --lambda nan"},
      {"an infinite lambda", " --antidistill fingerprint --proxy " + model + " --lambda inf"},
      {"an overflowing lambda", " --antidistill fingerprint --proxy " + model + " --lambda 1e999"},
      {"a missing proxy file", " --antidistill fingerprint --proxy " + missing + " --lambda 1"},
      {"a missing degrade directory", " --antidistill degrade --proxy " + missing + " --lambda 1"},
      {"a proxy of another vocabulary", " --antidistill fingerprint --proxy " + tiny + " --lambda 1"},
      {"an unknown mode", " --antidistill poison --proxy " + model + " --lambda 1"},
      {"no proxy", " --antidistill fingerprint --lambda 1"},
      {"no lambda", " --antidistill fingerprint --proxy " + model},
      {"a proxy without a mode", " --proxy " + model + " --lambda 1"},
      {"no watermark", " --no-watermark --antidistill fingerprint --proxy " + model + " --lambda 1"},
      {"a green-aligned adjustment on Gumbel",
       " --scheme gumbel --antidistill fingerprint --proxy " + model + " --lambda 1"},
  };
  for (const auto& [what, args] : cases) {
    const auto r = run_command(f.base + args);
    INFO(what << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("error") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  fs::remove_all(f.dir);
}
