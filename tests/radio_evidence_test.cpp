// Evidence bundles of radioactivity tests (`radioactivity score --bundle`): written and verified by the same code as
// detect's, re-scored by `report verify --key` with every number compared, every single-byte change caught, a changed
// predictions file named, no key material in any output, the record's reader strict about the radioactivity fields,
// and bad flag combinations refused in one line.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bundle_test_support.hpp"
#include "chromium_render.hpp"
#include "evidence/bundle.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/html_report.hpp"
#include "evidence/radio_evidence.hpp"
#include "evidence/record.hpp"
#include "input/tokenizer.hpp"
#include "radio_test_inputs.hpp"
#include "run_command.hpp"
#include "telltale/keyring.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace telltale::test;

std::string model() { return std::string(telltale::test::kModelDir) + "/stories260K.bin"; }
std::string tok() { return std::string(telltale::test::kModelDir) + "/tok512.model"; }

// A small case: the keys of BundleCase, three watermarked stories, the teacher-context filter, the reference model's
// predictions on the stories (an innocent suspect), the predictions of a suspect that memorised them and an answer
// log of the stories.
struct RadioCase : telltale::test::BundleCase {
  RadioCase() : BundleCase("radio-evidence") {
    const auto gen =
        run("generate -m " + model() + " -t " + tok() + " -n 120 --top-p 1 --jsonl --count 3 --key k.key --seed 5");
    REQUIRE(gen.exit_code == 0);
    dir.file("wm.jsonl", gen.out);
    REQUIRE(run("radioactivity filter -t " + tok() + " -f completion --out t.ttcf wm.jsonl").exit_code == 0);
    REQUIRE(run("radioactivity predict -m " + model() + " -t " + tok() + " -f completion --out p.jsonl wm.jsonl")
                .exit_code == 0);
    dir.file("memorised.jsonl", telltale::test::memorised_predictions(slurp(dir.path("p.jsonl"))));
    dir.file("answers.jsonl", telltale::test::answers_from_generations(slurp(dir.path("wm.jsonl"))));
  }

  // `radioactivity score` with the key and tokenizer, and `rest`.
  telltale::test::CommandResult score(const std::string& rest) const {
    return run("radioactivity score -k k.key -t " + tok() + " " + rest);
  }
};

}  // namespace

TEST_CASE("a radioactivity bundle verifies, and the re-scoring of the recorded files confirms every number",
          "[evidence][radio]") {
  RadioCase c;
  const auto scored = c.score(
      "--predictions memorised.jsonl --filter t.ttcf --provenance prov.jsonl --bundle b "
      "--signing-key s.key");
  INFO("stderr: " << scored.err);
  REQUIRE(scored.exit_code == 0);  // the memorising suspect is detected
  CHECK(scored.err.find("evidence bundle written to b") != std::string::npos);

  const auto plain = telltale::test::run_command(c.verify("b"));
  INFO("verify: " << plain.err);
  REQUIRE(plain.exit_code == 0);
  CHECK(json::parse(plain.out)["rerun"].get<std::string>().find("skipped") == 0);
  CHECK(json::parse(plain.out)["test"] == "radioactivity");
  CHECK(json::parse(plain.out)["detected"] == true);
  // From another directory: the recorded relative paths resolve in --base.
  const auto full = telltale::test::run_command("cd / && " + c.rerun("b", "k.key"));
  INFO("verify --key: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["rerun"].get<std::string>().find("identical") != std::string::npos);

  auto record = telltale::evidence::verify_bundle(c.dir.path("b"), c.public_key());
  REQUIRE(record.is_ok());
  const json& r = *record;
  SECTION("the record holds the printed result, the recipe, the files read and the plot series") {
    CHECK(r["test"] == "radioactivity");
    CHECK(r["format"] == "telltale-evidence-1");
    CHECK(r["result"] == json::parse(scored.out));
    auto prov_sha256 = telltale::input::sha256_file_hex(c.dir.path("prov.jsonl"));
    REQUIRE(prov_sha256.is_ok());
    CHECK(r["result"]["provenance_sha256"] == *prov_sha256);
    CHECK(r["recipe"]["mode"] == "open");
    CHECK(r["recipe"]["predictions"] == "memorised.jsonl");
    CHECK(r["recipe"]["filter"] == "t.ttcf");
    REQUIRE(r["input_files"].size() == 2);
    CHECK(r["input_files"][0]["path"] == "memorised.jsonl");
    CHECK(r["input_files"][1]["path"] == "t.ttcf");
    CHECK(r["input_files"][0]["bytes"] == fs::file_size(c.dir.path("memorised.jsonl")));
    const json& points = r["plots"][0]["curve"]["points"];
    REQUIRE(!points.empty());
    CHECK(points.size() <= telltale::evidence::kMaxTupleCurvePoints + 1);
    CHECK(points.back()[0] == r["result"]["scored_tuples"]);
    CHECK(points.back()[1] == r["result"]["log10_p_value"]);
    const json& scores = r["plots"][0]["scores"];
    uint64_t observed = 0;
    for (const json& n : scores["observed"]) observed += n.get<uint64_t>();
    CHECK(observed == r["result"]["scored_tuples"].get<uint64_t>());
    CHECK(scores["observed"][1] == r["result"]["statistic"]);  // KGW: the green count
  }
  SECTION("the report says what was tested, what the number means, and the limits, in plain words") {
    const std::string html = slurp(fs::path(c.dir.path("b")) / telltale::evidence::kReportFile);
    CHECK(html.find("predictions on our watermarked text") != std::string::npos);
    CHECK(html.find("A model that never trained on our key's text would score this high about once in") !=
          std::string::npos);
    CHECK(html.find("not who supplied") != std::string::npos);
    CHECK(html.find("false-positive rate") != std::string::npos);
    CHECK(html.find("<svg id=\"plot-curve\"") != std::string::npos);
    CHECK(html.find("<svg id=\"plot-scores\"") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    // The appendix is the record itself, every value, with a plot's points on one wrapped line, not a line each.
    const size_t begin = html.find("<pre id=\"record\">"), end = html.find("</pre>", begin);
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    std::string shown = html.substr(begin + 17, end - begin - 17);
    for (const auto& [entity, character] : {std::pair<std::string, std::string>{"&quot;", "\""},
                                            {"&#39;", "'"},
                                            {"&lt;", "<"},
                                            {"&gt;", ">"},
                                            {"&amp;", "&"}}) {
      for (size_t at = shown.find(entity); at != std::string::npos; at = shown.find(entity, at + character.size()))
        shown.replace(at, entity.size(), character);
    }
    CHECK(json::parse(shown) == r);
    const auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
    CHECK(2 * lines(shown) < lines(r.dump(1)));  // a line per number: the points alone are 4 lines each
    const auto again = c.run("report html b --pubkey s.key.pub -o again.html");
    INFO("report html: " << again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(slurp(c.dir.path("again.html")) == html);
    CHECK(json::parse(again.out)["verdict"].get<std::string>().find("suspect model") != std::string::npos);
  }
  SECTION("a changed predictions file makes the re-run fail, naming the file") {
    std::string changed = slurp(c.dir.path("memorised.jsonl"));
    changed[changed.size() / 2] = changed[changed.size() / 2] == '1' ? '2' : '1';
    c.dir.file("memorised.jsonl", changed);
    const auto rerun = telltale::test::run_command(c.rerun("b", "k.key"));
    CHECK(rerun.exit_code == 2);
    CHECK(one_line_error(rerun.err));
    CHECK(rerun.err.find("memorised.jsonl: SHA-256") != std::string::npos);
  }
  SECTION("numbers altered in a record are caught by the re-run even when the record is signed again") {
    CHECK(c.reproduce(r).is_ok());
    json forged = r;
    forged["result"]["statistic"] = 1;
    auto caught = c.reproduce(forged);
    REQUIRE(!caught.is_ok());
    CHECK(caught.status().message() == "the re-run differs from the record in /result/statistic");
    forged = r;
    forged["plots"][0]["curve"]["points"][0][1] = -99.0;
    caught = c.reproduce(forged);
    REQUIRE(!caught.is_ok());
    CHECK(caught.status().message() == "the re-run differs from the record in /plots/0/curve/points/0/1");
    // The provenance file's hash is recomputed from the re-run's tuples, not carried over.
    forged = r;
    forged["result"]["provenance_sha256"] = std::string(64, '0');
    caught = c.reproduce(forged);
    REQUIRE(!caught.is_ok());
    CHECK(caught.status().message() == "the re-run differs from the record in /result/provenance_sha256");
  }
  SECTION("another watermark key is refused before anything is re-scored") {
    REQUIRE(c.run("keygen --out other.key").exit_code == 0);
    const auto rerun = telltale::test::run_command(c.rerun("b", "other.key"));
    CHECK(rerun.exit_code == 2);
    CHECK(one_line_error(rerun.err));
    CHECK(rerun.err.find("the record's is") != std::string::npos);
  }
}

TEST_CASE("a closed-model radioactivity bundle, without a filter, verifies and re-scores", "[evidence][radio]") {
  RadioCase c;
  const auto scored = c.score("--answers answers.jsonl --bundle b --signing-key s.key --top-k 1");
  INFO("stderr: " << scored.err);
  REQUIRE((scored.exit_code == 0 || scored.exit_code == 1));
  const auto full = telltale::test::run_command(c.rerun("b", "k.key"));
  INFO("verify --key: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["rerun"].get<std::string>().find("answers") != std::string::npos);
  const json record = json::parse(slurp(fs::path(c.dir.path("b")) / telltale::evidence::kRecordFile));
  CHECK(record["recipe"]["mode"] == "closed");
  CHECK(record["recipe"]["answers"] == "answers.jsonl");
  CHECK(record["recipe"]["filter"] == "");
  CHECK(record["input_files"].size() == 1);
  CHECK(record["result"] == json::parse(scored.out));
  const std::string html = slurp(fs::path(c.dir.path("b")) / telltale::evidence::kReportFile);
  CHECK(html.find("answers to our prompts") != std::string::npos);
}

TEST_CASE("any single-byte change to a radioactivity bundle makes verification fail naming the file",
          "[evidence][radio]") {
  RadioCase c;
  REQUIRE(c.score("--predictions p.jsonl --bundle b --signing-key s.key").exit_code == 1);
  c.check_byte_changes(11, 20);
}

TEST_CASE(
    "a radioactivity bundle, its report and the command output never contain the secret key or a derived "
    "subkey",
    "[evidence][radio][keys]") {
  RadioCase c;
  const auto scored = c.score("--predictions memorised.jsonl --filter t.ttcf --bundle b --signing-key s.key");
  REQUIRE(scored.exit_code == 0);
  c.check_no_secret_after("score output", scored);
}

TEST_CASE("the record reader refuses malformed radioactivity records with a message naming the field",
          "[evidence][radio]") {
  RadioCase c;
  REQUIRE(c.score("--predictions p.jsonl --filter t.ttcf --bundle b --signing-key s.key").exit_code == 1);
  const json good = c.parsed_record(telltale::evidence::TestKind::kRadioactivity);
  CHECK(telltale::evidence::radio_recipe_from_json(good).is_ok());
  telltale::test::check_damaged_records_refused(
      good, {
                {"/test", "watermark", false, "/test"},
                {"/recipe/top_k", nullptr, true, "/recipe/top_k"},
                {"/recipe/mode", "half-open", false, "/recipe/mode"},
                {"/recipe/answers", "a.jsonl", false, "/recipe/predictions"},
                {"/recipe/scheme/gamma", "1/4", false, "/recipe/scheme/gamma"},
                {"/result/scored_tuples", -3, false, "/result/scored_tuples"},
                {"/result/counts", nullptr, true, "/result/counts"},
                {"/plots/0/curve/points", json::array({json::array({1, 2, 3})}), false, "/plots/0/curve/points"},
                {"/input_files/0/sha256", "abc", false, "/input_files/0/sha256"},
                {"/test", nullptr, true, "missing field /recipe/inputs"},  // read as a detection record
            });
  SECTION("a recipe whose parameters do not give its configuration is refused") {
    telltale::test::check_configuration_mismatch_refused(
        good, [](const json& record) { return telltale::evidence::radio_recipe_from_json(record); });
  }
}

TEST_CASE("radioactivity score refuses bad bundle options in one line, exit 2, writing nothing", "[evidence][radio]") {
  RadioCase c;
  const std::string both = "--predictions p.jsonl --answers answers.jsonl --bundle b --signing-key s.key";
  telltale::test::check_refused(both, c.score(both), "exactly one of");
  c.check_bundle_options_refused(
      [&c](const std::string& options) { return c.score("--predictions p.jsonl " + options); });
}

TEST_CASE(
    "the radioactivity report renders in headless Chromium with its verdict, meaning, limits and plots, no "
    "error and no network request",
    "[evidence][radio][chromium]") {
  RadioCase c;
  REQUIRE(c.score("--predictions memorised.jsonl --filter t.ttcf --bundle b --signing-key s.key").exit_code == 0);
  const auto rendered = telltale::test::render_report(c.dir.path("b"), fs::path(c.dir.str()) / "chromium");
  if (!rendered) return;  // no Chromium here
  const telltale::test::Rendering& r = *rendered;
  CHECK(r.dom.find("id=\"verdict\"") != std::string::npos);
  CHECK(r.dom.find("show that it was trained on text watermarked with key") != std::string::npos);
  CHECK(r.dom.find("would score this high about once in") != std::string::npos);
  CHECK(r.dom.find("id=\"limits\"") != std::string::npos);
  for (const char* plot : {"plot-scores", "plot-curve"}) {
    INFO("plot: " << plot);
    CHECK(r.dom.find(std::string("<svg id=\"") + plot + "\"") != std::string::npos);
  }
}

namespace {

// The memorised predictions with the suspect certain of each next id (log-probability 0).
std::string certain_predictions(const std::string& memorised) {
  std::istringstream in(memorised);
  std::string line, out;
  std::getline(in, line);
  out = line + "\n";
  while (std::getline(in, line)) {
    auto r = json::parse(line);
    json lp = json::array();
    for (size_t i = 0; i < r.at("positions").size(); ++i) lp.push_back({0.0});
    r["logprobs"] = lp;
    out += r.dump() + "\n";
  }
  return out;
}

// The answer log with each response's words (a leading space kept with each word) as the answer's tokens, every
// token certain, the way an API with another tokenizer returns logprobs.
std::string answers_with_logprobs(const std::string& answers) {
  std::istringstream in(answers);
  std::string line, out;
  while (std::getline(in, line)) {
    auto a = json::parse(line);
    const std::string response = a.at("response").get<std::string>();
    json content = json::array();
    for (size_t i = 0; i < response.size();) {
      size_t j = response.find(' ', i + 1);
      if (j == std::string::npos) j = response.size();
      const std::string token = response.substr(i, j - i);
      content.push_back(
          {{"token", token}, {"logprob", -0.1}, {"top_logprobs", {{{"token", token}, {"logprob", -0.1}}}}});
      i = j;
    }
    a["logprobs"] = content;
    out += a.dump() + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE(
    "a probability score with the suspect's own tokenizer bundles, and report verify re-runs it to the same "
    "numbers",
    "[evidence][radio][alignment]") {
  RadioCase c;
  c.dir.file("certain.jsonl", certain_predictions(slurp(c.dir.path("memorised.jsonl"))));
  const auto scored = c.score("--predictions certain.jsonl --suspect-tokenizer " + tok() +
                              " --score probability --filter t.ttcf --bundle b --signing-key s.key");
  INFO("stderr: " << scored.err);
  REQUIRE(scored.exit_code == 0);  // detected
  const json result = json::parse(scored.out);
  CHECK(result["score"] == "probability");
  CHECK(result["alignment"]["off_watermark_boundary"] == 0);
  CHECK(result["null"]["method"].get<std::string>().find("exact tail") == 0);
  CHECK(result["suspect_tokenizer_sha256"] == result["tokenizer_sha256"]);
  const auto full = telltale::test::run_command(c.rerun("b", "k.key"));
  INFO("verify --key: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["rerun"].get<std::string>().find("identical") != std::string::npos);
  const json record = json::parse(slurp(c.dir.path("b/record.json")));
  CHECK(record["recipe"]["score"] == "probability");
  CHECK(record["recipe"]["suspect_tokenizer"] == tok());
  // The report says the p-value is a bound and how it was computed, and that the plots are the unweighted count.
  const std::string html = slurp(fs::path(c.dir.path("b")) / telltale::evidence::kReportFile);
  CHECK(html.find("computed exactly") == std::string::npos);
  CHECK(html.find("never in the suspect's disfavour (exact tail") != std::string::npos);
  CHECK(html.find("this is the unweighted count of the results table") != std::string::npos);
  CHECK(html.find("unweighted count (the plots)") != std::string::npos);
}

TEST_CASE("a Gumbel probability score bundles, its report saying how its p-value was bounded",
          "[evidence][radio][alignment]") {
  RadioCase c;
  const auto gen = c.run("generate -m " + model() + " -t " + tok() +
                         " -n 120 --top-p 1 --jsonl --count 2 --key k.key --seed 9 --scheme gumbel");
  REQUIRE(gen.exit_code == 0);
  c.dir.file("g.jsonl", gen.out);
  REQUIRE(c.run("radioactivity predict -m " + model() + " -t " + tok() + " -f completion --out gp.jsonl g.jsonl")
              .exit_code == 0);
  c.dir.file("gm.jsonl", certain_predictions(telltale::test::memorised_predictions(slurp(c.dir.path("gp.jsonl")))));
  const auto scored =
      c.score("--predictions gm.jsonl --scheme gumbel --score probability --bundle g --signing-key s.key");
  INFO("stderr: " << scored.err);
  REQUIRE(scored.exit_code == 0);  // the memorised Gumbel text is detected
  // Gumbel's unweighted score is a sum of -ln(1 - r), not a count: the report prints it as a number.
  const json result = json::parse(scored.out);
  CHECK(result["unweighted"]["statistic"].get<double>() != std::floor(result["unweighted"]["statistic"].get<double>()));
  const std::string html = slurp(fs::path(c.dir.path("g")) / telltale::evidence::kReportFile);
  CHECK(html.find("never in the suspect's disfavour (" + result["null"]["method"].get<std::string>()) !=
        std::string::npos);
  const auto rerun = telltale::test::run_command(c.rerun("g", "k.key"));
  INFO("verify --key: " << rerun.err);
  CHECK(rerun.exit_code == 0);
}

TEST_CASE("a closed answer log's logprobs give a probability score that report verify re-runs",
          "[evidence][radio][alignment]") {
  RadioCase c;
  c.dir.file("answers-lp.jsonl", answers_with_logprobs(slurp(c.dir.path("answers.jsonl"))));
  const auto scored = c.score("--answers answers-lp.jsonl --score probability --bundle b --signing-key s.key");
  INFO("stderr: " << scored.err);
  REQUIRE((scored.exit_code == 0 || scored.exit_code == 1));
  const json result = json::parse(scored.out);
  CHECK(result["score"] == "probability");
  CHECK(result["alignment"]["candidates_one_watermark_token"].get<uint64_t>() > 0);
  CHECK(result["scored_tuples"].get<uint64_t>() > 0);
  const auto full = telltale::test::run_command(c.rerun("b", "k.key"));
  INFO("verify --key: " << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(json::parse(full.out)["rerun"].get<std::string>().find("identical") != std::string::npos);
}

TEST_CASE(
    "the first-piece rule (the default) reads more of an answer's tokens than whole-token, is kept in the record, "
    "and report verify re-runs it",
    "[evidence][radio][alignment]") {
  RadioCase c;
  c.dir.file("answers-lp.jsonl", answers_with_logprobs(slurp(c.dir.path("answers.jsonl"))));
  const auto whole =
      c.score("--answers answers-lp.jsonl --score probability --alignment whole-token --bundle w --signing-key s.key");
  const auto first = c.score("--answers answers-lp.jsonl --score probability --bundle f --signing-key s.key");
  INFO("stderr: " << whole.err << first.err);
  REQUIRE((whole.exit_code == 0 || whole.exit_code == 1));
  REQUIRE((first.exit_code == 0 || first.exit_code == 1));
  const json w = json::parse(whole.out)["alignment"], f = json::parse(first.out)["alignment"];
  CHECK(w["rule"] == "whole-token");
  CHECK(w["candidates_by_first_piece"] == 0);
  CHECK(f["rule"] == "first-piece");
  // These answers' tokens are words, most of them several watermark tokens: the rule keeps them.
  CHECK(f["candidates_by_first_piece"].get<uint64_t>() > 0);
  CHECK(f["candidates_one_watermark_token"].get<uint64_t>() ==
        w["candidates_one_watermark_token"].get<uint64_t>() + f["candidates_by_first_piece"].get<uint64_t>());
  CHECK(json::parse(first.out)["scored_tuples"].get<uint64_t>() >
        json::parse(whole.out)["scored_tuples"].get<uint64_t>());
  CHECK(json::parse(slurp(c.dir.path("f/record.json")))["recipe"]["alignment"] == "first-piece");
  CHECK_FALSE(json::parse(slurp(c.dir.path("w/record.json")))["recipe"].contains("alignment"));  // as older records
  // The report says how the suspect's tokens were read, and how many candidates each rule kept.
  const std::string whole_html = slurp(fs::path(c.dir.path("w")) / telltale::evidence::kReportFile);
  const std::string first_html = slurp(fs::path(c.dir.path("f")) / telltale::evidence::kReportFile);
  CHECK(whole_html.find("whole tokens only") != std::string::npos);
  CHECK(first_html.find("(the first-piece rule)") != std::string::npos);
  CHECK(first_html.find(", " + std::to_string(f["candidates_by_first_piece"].get<uint64_t>()) +
                        " of them by their first piece") != std::string::npos);
  CHECK(whole_html.find("by their first piece") == std::string::npos);
  const auto rerun = telltale::test::run_command(c.rerun("f", "k.key"));
  INFO("verify --key: " << rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK(json::parse(rerun.out)["rerun"].get<std::string>().find("identical") != std::string::npos);
  // A record that names no rule (every record made before first-piece became the default) re-runs under whole-token.
  const auto old_rule = telltale::test::run_command(c.rerun("w", "k.key"));
  INFO("verify --key: " << old_rule.err);
  REQUIRE(old_rule.exit_code == 0);
  CHECK(json::parse(old_rule.out)["rerun"].get<std::string>().find("identical") != std::string::npos);
  const auto bad = c.score("--answers answers-lp.jsonl --score probability --alignment first");
  CHECK(bad.exit_code == 2);
}

TEST_CASE("logprobs that do not spell the response, and a probability score without logprobs, are refused in one line",
          "[radio][alignment]") {
  RadioCase c;
  c.dir.file("bad.jsonl",
             json{{"prompt", "Once"},
                  {"response", "upon a time"},
                  {"logprobs", {{{"token", "upon"}, {"logprob", -0.1}}, {{"token", " b"}, {"logprob", -1}}}}}
                     .dump() +
                 "\n");
  const auto bad = c.score("--answers bad.jsonl --score probability");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("bad.jsonl:1:") && Catch::Contains("byte offset 5"));
  const auto none = c.score("--answers answers.jsonl --score probability");
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("answers.jsonl:1:") && Catch::Contains("needs the answer's 'logprobs'"));
  const auto open = c.score("--predictions memorised.jsonl --score probability");
  CHECK(open.exit_code == 2);
  CHECK_THAT(open.err, Catch::Contains("memorised.jsonl:2:") && Catch::Contains("logprobs"));
  const auto wrong = c.score("--answers answers.jsonl --suspect-tokenizer " + tok());
  CHECK(wrong.exit_code == 2);
  CHECK(std::count(wrong.err.begin(), wrong.err.end(), '\n') == 1);
  const auto score = c.score("--predictions memorised.jsonl --score best");
  CHECK(score.exit_code == 2);
}
