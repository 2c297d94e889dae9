// `telltale radioactivity query` against a hostile or broken server and careless flags: a reply dripped a byte at a
// time is cut off at --timeout, --rate holds even at its smallest value, an API key the server quotes back is
// redacted from every output, control bytes are escaped, and the key leaves the process environment once read.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "openai_test_server.hpp"
#include "query/api_key.hpp"
#include "query/rate_limiter.hpp"
#include "query_test_support.hpp"
#include "run_command.hpp"
#include "secret_search.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::Fault;
using telltale::test::OpenAiTestServer;
using telltale::test::ScratchDir;

using namespace telltale::test::query_cli;  // NOLINT(google-build-using-namespace)

const std::string kSecret = "sk-telltale-echo-5f1c9e0b7a2d4c68";
const std::string kKeyEnv = "TT_SUSPECT_KEY=" + kSecret;

// Every encoding of the API key a program could print (raw, hex, base64) found in `text`; empty when none.
std::string leaked(const std::string& text) {
  for (const std::string& needle : telltale::test::encodings(kSecret))
    if (text.find(needle) != std::string::npos) return needle;
  return {};
}

bool has_control_byte(const std::string& text, bool newline_allowed) {
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && !(newline_allowed && b == '\n')) || b == 0x7f || b == 0x9b) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a reply dripped a byte at a time is cut off at --timeout and the prompt asked again", "[radio][query]") {
  ScratchDir dir("query-drip");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  server.set_drip_ms(100);  // a reply of a few hundred bytes would take most of a minute
  server.script({Fault::kDrip});
  prompt_file(dir, {kPrompts[0]});
  const Run q = run(dir, query_args(server, "--timeout 0.5 --attempts 3"));
  INFO(q.err);
  REQUIRE(q.rc == 0);
  const LogLines log = read_log(dir.path("log.jsonl"));
  REQUIRE(log.failures.size() == 1);
  CHECK(log.failures[0].at("error").get<std::string>().find("timed out") != std::string::npos);
  REQUIRE(log.answers.size() == 1);
  CHECK(log.answers[0].at("attempts") == 2);
}

TEST_CASE("query refuses a timeout, rate, delay, concurrency or top-logprobs out of range before sending anything",
          "[radio][query]") {
  ScratchDir dir("query-flag-range");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0]});
  const std::string base = "radioactivity query -q -e " + server.base_url() + " -m m -p prompts.jsonl -o n.jsonl ";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"--timeout 1e-9", "--timeout: must be a number in [0.1, 3600]"},
      {"--timeout 0.0004", "--timeout: must be a number in [0.1, 3600]"},
      {"--timeout inf", "--timeout: must be a number in [0.1, 3600]"},
      {"--timeout 1e300", "--timeout: must be a number in [0.1, 3600]"},
      {"--timeout nan", "--timeout: must be a number in [0.1, 3600]"},
      {"--rate 1e-10", "--rate: must be a number in [0.001, 10000]"},
      {"--rate 1e300", "--rate: must be a number in [0.001, 10000]"},
      {"--rate 0x10", "--rate: must be a number in [0.001, 10000]"},
      {"--retry-delay 1e300", "--retry-delay: must be a number in [0, 3600]"},
      {"--retry-delay 2 --max-retry-delay 1", "--retry-delay must be at most --max-retry-delay"},
      {"--temperature -1", "--temperature: must be a number in [0, 100]"},
      {"--temperature infinity", "--temperature: must be a number in [0, 100]"},
      {"--max-tokens 0", "--max-tokens: must be a whole number in 1..1048576"},
      {"--attempts 1e2", "--attempts: must be a whole number in 1..100"},
      {"--seed 18446744073709551616", "--seed: must be a whole number in 0..18446744073709551615"},
      {"--seed 0x10", "--seed: must be a whole number in 0..18446744073709551615"},
      {"--concurrency 0", "--concurrency: must be a whole number in 1..64"},
      {"--concurrency 65", "--concurrency: must be a whole number in 1..64"},
      {"--concurrency 1e1", "--concurrency: must be a whole number in 1..64"},
      {"--top-logprobs 21", "--top-logprobs: must be a whole number in 0..20"},
      {"--top-logprobs -1", "--top-logprobs: must be a whole number in 0..20"},
      {"--top-logprobs 0x1", "--top-logprobs: must be a whole number in 0..20"}};
  for (const auto& [flags, what] : refused) {
    const Run r = run(dir, base + flags);
    INFO(flags << "\n" << r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find(what) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(server.requests().empty());
}

TEST_CASE("query --rate spaces the requests at least 1/rate apart", "[radio][query]") {
  ScratchDir dir("query-rate");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  const std::vector<std::string> prompts(kPrompts.begin(), kPrompts.begin() + 4);
  prompt_file(dir, prompts);
  const auto start = std::chrono::steady_clock::now();
  const Run q = run(dir, "radioactivity query -q -e " + server.base_url() +
                             " -m suspect -p prompts.jsonl -o log.jsonl --max-tokens 8 --rate 5");
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(q.err);
  REQUIRE(q.rc == 0);
  REQUIRE(server.requests().size() == prompts.size());
  CHECK(elapsed >= (static_cast<double>(prompts.size()) - 1) / 5);

  // At the smallest rate allowed the interval is its full 1000 s (1e-10 overflowed the clock and slept not at all).
  using telltale::query::RateLimiter;
  std::vector<double> slept;
  RateLimiter slow(telltale::query::kMinRequestsPerSecond,
                   [&](RateLimiter::Clock::duration d) { slept.push_back(std::chrono::duration<double>(d).count()); });
  slow.acquire();
  slow.acquire();
  REQUIRE(slept.size() == 1);
  CHECK(slept[0] > 999);
  CHECK(slept[0] <= 1000);
}

TEST_CASE("an API key the server quotes back is redacted from the log, stdout and stderr", "[radio][query]") {
  ScratchDir dir("query-echo");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0], kPrompts[1]});
  // The first answer quotes the key in its text; the second prompt's 400 quotes it in its error.
  server.script({Fault::kEchoInAnswer, Fault::kEchoAuthorization});
  const Run q = run(dir, query_args(server, "--api-key-env TT_SUSPECT_KEY"), kKeyEnv);
  CHECK(q.rc == 2);
  CHECK(q.err.find("prompt 1: HTTP 400: malformed header 'Authorization: [redacted]'") != std::string::npos);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  for (const auto& r : requests) CHECK(r.authorization == "Bearer " + kSecret);  // the server did get the key

  const std::string log_text = telltale::test::slurp(dir.path("log.jsonl"));
  const LogLines log = read_log(dir.path("log.jsonl"));
  REQUIRE(log.answers.size() == 1);
  CHECK(log.answers[0].at("response").get<std::string>().find("(you are [redacted])") != std::string::npos);
  REQUIRE(log.failures.size() == 1);
  CHECK(log.failures[0].at("error").get<std::string>().find("[redacted]") != std::string::npos);
  for (const std::string* s : {&q.out, &q.err, &log_text}) {
    INFO(*s);
    CHECK(leaked(*s).empty());
  }
}

TEST_CASE("a reply's control bytes are escaped before they reach the terminal or the log", "[radio][query]") {
  ScratchDir dir("query-control");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0]});
  server.script({Fault::kControlBytes});
  const Run q = run(dir, query_args(server, "--api-key-env TT_SUSPECT_KEY"), kKeyEnv);
  INFO(q.err);
  CHECK(q.rc == 2);
  CHECK(q.err.find("HTTP 400: \\x1b[2J\\x1b]0;owned\\x07 bad\\x0drequest") != std::string::npos);
  CHECK(q.err.find("from [redacted]") != std::string::npos);
  CHECK(!has_control_byte(q.err, true));
  CHECK(std::count(q.err.begin(), q.err.end(), '\n') == 1);
  const LogLines log = read_log(dir.path("log.jsonl"));
  REQUIRE(log.failures.size() == 1);
  CHECK(!has_control_byte(log.failures[0].at("error").get<std::string>(), false));
  CHECK(leaked(q.err + telltale::test::slurp(dir.path("log.jsonl"))).empty());
}

TEST_CASE("the API key is gone from /proc/PID/environ while the run is under way", "[radio][query]") {
  ScratchDir dir("query-environ");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0]});
  server.script({Fault::kHold});
  const std::string command = "cd " + dir.str() + " && exec env TT_MARKER=still-here " + kKeyEnv + " " +
                              telltale::test::telltale_binary() + " " +
                              query_args(server, "--api-key-env TT_SUSPECT_KEY") + " >/dev/null 2>&1";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  server.wait_for_hold();  // the key has been read and sent
  const std::string env_block = telltale::test::slurp("/proc/" + std::to_string(pid) + "/environ");
  REQUIRE(::kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  server.release();
  CHECK(server.requests().at(0).authorization == "Bearer " + kSecret);
  CHECK(env_block.find("TT_MARKER=still-here") != std::string::npos);  // the file was read, and is the right one
  CHECK(leaked(env_block).empty());
}

TEST_CASE("an API key with a CR, LF or other control byte is refused without quoting it", "[radio][query]") {
  ScratchDir dir("query-crlf");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0]});
  for (const std::string value : {"sk-crlf-0123456789\\r\\nX-Injected: 1", "sk-tab-0123456789\\tx", "sk-esc\\033[2J"}) {
    const Run r =
        run(dir, query_args(server, "--api-key-env TT_SUSPECT_KEY"), "TT_SUSPECT_KEY=\"$(printf '" + value + "')\"");
    INFO(value << "\n" << r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find("--api-key-env: the value of TT_SUSPECT_KEY holds a control character") != std::string::npos);
    CHECK(r.err.find("sk-") == std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(server.requests().empty());
}

TEST_CASE("the key redactor replaces the key, its Bearer header and its JSON-escaped forms", "[radio][query]") {
  const std::string key = "sk-a\"b\\c/d-0123456789";
  const telltale::query::KeyRedactor redactor(key);
  std::string raw = "Authorization: Bearer " + key + "; again " + key + key + R"(; as JSON "sk-a\"b\\c/d-0123456789")" +
                    R"(, PHP-style "sk-a\"b\\c\/d-0123456789")";
  redactor.redact(raw);
  CHECK(raw ==
        "Authorization: [redacted]; again [redacted][redacted]; as JSON \"[redacted]\", PHP-style \"[redacted]\"");

  nlohmann::json reply = nlohmann::json::parse(
      R"({"choices": [{"message": {"content": "I am sk-a\"b\\c/d-0123456789"}}],
          "sk-a\"b\\c/d-0123456789": [1, "sk-a\"b\\c/d-0123456789"]})");
  redactor.redact(reply);
  CHECK(reply.dump().find(key) == std::string::npos);
  CHECK(reply["choices"][0]["message"]["content"] == "I am [redacted]");
  CHECK(reply["[redacted]"] == nlohmann::json({1, "[redacted]"}));

  // A reply nested deeper than any stack allows recursion is walked without a crash.
  std::string deep(200000, '[');
  deep += nlohmann::json(key).dump() + std::string(200000, ']');
  nlohmann::json nested = nlohmann::json::parse(deep);
  redactor.redact(nested);
  const nlohmann::json* inner = &nested;
  while (inner->is_array()) inner = &(*inner)[0];
  CHECK(*inner == "[redacted]");

  std::string untouched = "no key here";
  telltale::query::KeyRedactor(std::string_view()).redact(untouched);
  CHECK(untouched == "no key here");
}
