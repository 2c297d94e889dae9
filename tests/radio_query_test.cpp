// The closed-model client (`telltale radioactivity query`) against a loopback OpenAI-compatible server that serves
// the reference model: every prompt answered and logged once, retries on 429/5xx/malformed replies/timeouts/dropped
// connections, a killed run resumed without losing or repeating a prompt, one-line errors, and no API key anywhere.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "openai_test_server.hpp"
#include "query/openai_protocol.hpp"
#include "query/query_log.hpp"
#include "query/rate_limiter.hpp"
#include "query/suspect_query.hpp"
#include "query_test_support.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::Fault;
using telltale::test::OpenAiTestServer;
using telltale::test::ScratchDir;

using namespace telltale::test::query_cli;  // NOLINT(google-build-using-namespace)

// Every prompt answered exactly once, under its own index.
void check_each_prompt_once(const LogLines& l, const std::vector<std::string>& prompts = kPrompts) {
  std::map<uint64_t, int> seen;
  for (const auto& a : l.answers) {
    const auto i = a.at("index").get<uint64_t>();
    ++seen[i];
    REQUIRE(i < prompts.size());
    CHECK(a.at("prompt") == prompts[i]);
    CHECK(a.at("request").at("messages").back().at("content") == prompts[i]);
    CHECK(!a.at("response").get<std::string>().empty());
  }
  CHECK(seen.size() == prompts.size());
  for (const auto& [i, n] : seen) {
    INFO("index " << i);
    CHECK(n == 1);
  }
}

}  // namespace

TEST_CASE("query asks every prompt once and score --answers detects the key the suspect's text carries",
          "[radio][query]") {
  ScratchDir dir("query-e2e");
  // Generated text is tested under fixed keys: the same answers every run, not a fresh key's random draw.
  telltale::test::write_fixed_key(0x41, dir.path("k.key"));
  telltale::test::write_fixed_key(0x42, dir.path("other.key"));
  OpenAiTestServer server(telltale::test::reference_model_answerer(dir.path("k.key")));
  prompt_file(dir);
  const Run q = run(dir, query_args(server));
  const auto j = succeeded(q);
  CHECK(j.at("complete") == true);
  CHECK(j.at("answered_now") == kPrompts.size());
  CHECK(j.at("requests") == kPrompts.size());
  const LogLines log = read_log(dir.path("log.jsonl"));
  CHECK(log.header.at("telltale_query_log") == 1);
  CHECK(log.header.at("prompt_count") == kPrompts.size());
  CHECK(log.failures.empty());
  check_each_prompt_once(log);
  CHECK(server.answered_prompts() == kPrompts);

  // Running it again sends nothing: everything is answered.
  const Run again = run(dir, query_args(server));
  REQUIRE(again.rc == 0);
  CHECK(nlohmann::json::parse(again.out).at("requests") == 0);

  // The log is the answer log `score` reads (its header and failure lines are skipped).
  const Run hit = run(dir, "radioactivity score -k k.key -t " + tok() + " --answers log.jsonl --provenance prov.jsonl");
  INFO(hit.out << hit.err);
  CHECK(hit.rc == 0);
  // Every scored tuple names the prompt whose answer it came from.
  std::set<std::string> docs;
  std::istringstream prov(telltale::test::slurp(dir.path("prov.jsonl")));
  for (std::string line; std::getline(prov, line);)
    docs.insert(nlohmann::json::parse(line).at("doc").get<std::string>());
  CHECK(docs.size() == kPrompts.size());
  CHECK(docs.count("log.jsonl@prompt0") == 1);
  CHECK(docs.count("log.jsonl@prompt5") == 1);
  const auto hj = nlohmann::json::parse(hit.out);
  CHECK(hj.at("counts").at("records") == kPrompts.size());
  CHECK(hj.at("p_value").get<double>() < 1e-6);
  const Run miss = run(dir, "radioactivity score -k other.key -t " + tok() + " --answers log.jsonl");
  CHECK(miss.rc == 1);

  // The same log scored from the answers' log-probabilities, as `query` logged them: the two halves of issue 21 meet.
  const Run prob = run(dir, "radioactivity score -k k.key -t " + tok() + " --answers log.jsonl --score probability");
  INFO(prob.out << prob.err);
  REQUIRE(prob.rc != 2);
  const auto pj = nlohmann::json::parse(prob.out);
  CHECK(pj.at("score") == "probability");
  CHECK(pj.at("scored_tuples").get<uint64_t>() > 0);
  CHECK(pj.at("null").at("exact") == true);  // 101 tuples: the exact tail on the grid is within budget
  CHECK(prob.rc == 0);                       // detected at the default alpha, as the top-1 score was
  CHECK(run(dir, "radioactivity score -k other.key -t " + tok() + " --answers log.jsonl --score probability").rc == 1);
}

TEST_CASE("query retries 429, 5xx, malformed JSON, empty choices, a dropped connection and a timeout",
          "[radio][query]") {
  ScratchDir dir("query-retry");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  server.set_slow_ms(3000);
  server.script({Fault::kTooMany, Fault::kServerError, Fault::kUnavailable, Fault::kMalformedJson, Fault::kNoChoices,
                 Fault::kDrop, Fault::kSlow});
  prompt_file(dir, {kPrompts[0], kPrompts[1]});
  const Run q = run(dir, query_args(server, "--timeout 1 --attempts 8"));
  const auto j = succeeded(q);
  CHECK(j.at("failed_attempts") == 7);
  CHECK(j.at("requests") == 9);
  const LogLines log = read_log(dir.path("log.jsonl"));
  check_each_prompt_once(log, {kPrompts[0], kPrompts[1]});
  REQUIRE(log.failures.size() == 7);
  const std::vector<std::string> expected = {"HTTP 429: rate limited",
                                             "HTTP 500: boom",
                                             "HTTP 503: overloaded",
                                             "reply is not JSON",
                                             "reply has no 'choices'",
                                             "",
                                             "timed out"};
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("failure " << i << ": " << log.failures[i].dump());
    CHECK(log.failures[i].at("index") == 0);
    CHECK(log.failures[i].at("attempt") == i + 1);
    CHECK(log.failures[i].at("error").get<std::string>().find(expected[i]) != std::string::npos);
    CHECK(log.failures[i].contains("retry_in_s"));
  }
  CHECK(log.answers[0].at("attempts") == 8);
}

TEST_CASE("a prompt that keeps failing stops the run with one line, and the same command resumes it",
          "[radio][query]") {
  ScratchDir dir("query-giveup");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir);
  server.script({Fault::kNone, Fault::kNone, Fault::kServerError, Fault::kServerError, Fault::kServerError});
  const Run q = run(dir, query_args(server, "--attempts 3"));
  CHECK(q.rc == 2);
  CHECK(q.out.empty());
  CHECK(q.err.find("prompt 2: no answer after 3 attempts (last: HTTP 500: boom)") != std::string::npos);
  CHECK(std::count(q.err.begin(), q.err.end(), '\n') == 1);
  CHECK(read_log(dir.path("log.jsonl")).answers.size() == 2);

  const Run resumed = run(dir, query_args(server, "--attempts 3"));
  const auto j = succeeded(resumed);
  CHECK(j.at("answered_before") == 2);
  CHECK(j.at("answered_now") == kPrompts.size() - 2);
  const LogLines log = read_log(dir.path("log.jsonl"));
  check_each_prompt_once(log);
  CHECK(log.failures.size() == 3);
  CHECK(server.requests().size() == kPrompts.size() + 3);
}

TEST_CASE("a run killed in the middle of a request resumes without losing or repeating a prompt", "[radio][query]") {
  ScratchDir dir("query-kill");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir);
  server.script({Fault::kNone, Fault::kNone, Fault::kNone, Fault::kHold});
  const std::string command = "cd " + dir.str() + " && exec " + telltale::test::telltale_binary() + " " +
                              query_args(server) + " >/dev/null 2>&1";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  server.wait_for_hold();  // the 4th prompt's request is in flight

  // A second run on the same log while the first holds it is refused.
  const Run second = run(dir, query_args(server));
  CHECK(second.rc == 2);
  CHECK(second.err.find("in use by another run") != std::string::npos);

  REQUIRE(::kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  server.release();
  CHECK(read_log(dir.path("log.jsonl")).answers.size() == 3);

  const Run resumed = run(dir, query_args(server));
  const auto j = succeeded(resumed);
  CHECK(j.at("answered_before") == 3);
  CHECK(j.at("answered_now") == 3);
  check_each_prompt_once(read_log(dir.path("log.jsonl")));
  // The server saw the killed request and its repetition; the log holds one answer for it.
  CHECK(server.requests().size() == kPrompts.size() + 1);
}

TEST_CASE("a torn last log line is cut off and its prompt asked again", "[radio][query]") {
  ScratchDir dir("query-torn");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir);
  REQUIRE(run(dir, query_args(server)).rc == 0);
  std::string text = telltale::test::slurp(dir.path("log.jsonl"));
  const size_t last = text.rfind('\n', text.size() - 2);
  const std::string torn = text.substr(0, last + 1) + text.substr(last + 1, (text.size() - last) / 2);
  dir.file("log.jsonl", torn);
  const Run r = run(dir, query_args(server));
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.err.find("cut off a torn last line") != std::string::npos);
  CHECK(nlohmann::json::parse(r.out).at("answered_now") == 1);
  check_each_prompt_once(read_log(dir.path("log.jsonl")));
}

TEST_CASE("query refuses a log from other settings, bad prompt files and bad flags with one line each",
          "[radio][query]") {
  ScratchDir dir("query-bad");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0]});
  REQUIRE(run(dir, query_args(server)).rc == 0);
  auto one_line_error = [&](const std::string& args, const std::string& what) {
    const Run r = run(dir, args);
    INFO(args << "\n" << r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find(what) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  };
  one_line_error(query_args(server, "--temperature 0.5"), "made by a run with other settings");
  prompt_file(dir, {kPrompts[1]});
  one_line_error(query_args(server), "'prompts_sha256'");

  const std::string base = "radioactivity query -q -e " + server.base_url() + " -m m -o new.jsonl ";
  one_line_error(base + "-p missing.jsonl", "missing.jsonl: cannot open");
  dir.file("empty.txt", "\n\n");
  one_line_error(base + "-p empty.txt", "empty.txt: no prompts");
  dir.file("bad.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \n");
  one_line_error(base + "-p bad.jsonl", "bad.jsonl:2: not valid JSON");
  dir.file("nofield.jsonl", "{\"text\": \"a\"}\n");
  one_line_error(base + "-p nofield.jsonl", "nofield.jsonl:1:");
  dir.file("latin1.txt", "caf\xe9\n");
  one_line_error(base + "-p latin1.txt", "invalid UTF-8");
  dir.file("ok.txt", "hello\n");
  one_line_error("radioactivity query -e ftp://x -m m -o n.jsonl -p ok.txt", "--endpoint must be an http");
  one_line_error(base + "-p ok.txt --rate 0", "--rate: must be a number in [0.001, 10000]");
  one_line_error(base + "-p ok.txt --api foo", "--api must be 'chat' or 'completions'");
  one_line_error(base + "-p ok.txt --seed -1", "--seed: must not be negative");
  one_line_error(base + "-p ok.txt --api-key-env TELLTALE_NO_SUCH_VAR", "TELLTALE_NO_SUCH_VAR is not set");
  // A wrong path answers 404: not retried.
  one_line_error("radioactivity query -q -e " + server.base_url() + "/nope -m m -o n404.jsonl -p ok.txt",
                 "HTTP 404: no such route (not retried");
  dir.file("notalog.jsonl", "{\"prompt\": \"a\", \"response\": \"b\"}\n");
  one_line_error("radioactivity query -q -e " + server.base_url() + " -m m -o notalog.jsonl -p ok.txt",
                 "notalog.jsonl:1: not a telltale query log");
}

TEST_CASE("a 401 stops the run at once and the API key is in no log, output or message", "[radio][query]") {
  ScratchDir dir("query-key");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0], kPrompts[1]});
  const std::string secret = "sk-telltale-test-5f1c9e0b7a";
  const std::string env = "TT_SUSPECT_KEY=" + secret;
  server.script({Fault::kUnauthorized});
  const Run denied = run(dir, query_args(server, "--api-key-env TT_SUSPECT_KEY"), env);
  CHECK(denied.rc == 2);
  CHECK(denied.err.find("prompt 0: HTTP 401: Incorrect API key provided (not retried") != std::string::npos);
  const Run ok = run(dir, query_args(server, "--api-key-env TT_SUSPECT_KEY"), env);
  INFO(ok.err);
  REQUIRE(ok.rc == 0);
  for (const auto& r : server.requests()) CHECK(r.authorization == "Bearer " + secret);
  const std::string log = telltale::test::slurp(dir.path("log.jsonl"));
  for (const std::string* s : {&denied.out, &denied.err, &ok.out, &ok.err, &log})
    CHECK(s->find(secret) == std::string::npos);
  CHECK(log.find("sk-telltale") == std::string::npos);
}

TEST_CASE("query speaks /completions with --api completions", "[radio][query]") {
  ScratchDir dir("query-completions");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  dir.file("prompts.jsonl", "{\"prompt\": \"Once upon a time\"}\n");
  const Run q = run(dir, query_args(server, "--api completions --seed 7"));
  INFO(q.err);
  REQUIRE(q.rc == 0);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].path == "/v1/completions");
  const auto body = nlohmann::json::parse(requests[0].body);
  CHECK(body.at("prompt") == "Once upon a time");
  CHECK(body.at("seed") == 7);
  CHECK(body.at("model") == "suspect");
  const LogLines log = read_log(dir.path("log.jsonl"));
  REQUIRE(log.answers.size() == 1);
  CHECK(log.header.at("api") == "completions");
}

TEST_CASE("OpenAI replies are read field by field and refused with the reason", "[radio][query]") {
  using telltale::query::Api;
  using telltale::query::parse_reply;
  auto chat = parse_reply(Api::kChat, R"({"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}]})");
  REQUIRE(chat.is_ok());
  CHECK(chat->text == "hi");
  CHECK(chat->finish_reason == "stop");
  CHECK(parse_reply(Api::kCompletions, R"({"choices":[{"text":"x"}]})")->text == "x");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "not JSON"},
      {"[1]", "not a JSON object"},
      {R"({"error":{"message":"quota exceeded"}})", "reply is an error: quota exceeded"},
      {R"({"choices":{}})", "no 'choices'"},
      {R"({"choices":[3]})", "choices[0] is not an object"},
      {R"({"choices":[{"text":"x"}]})", "no choices[0].message"},
      {R"({"choices":[{"message":{"content":null}}]})", "choices[0].message.content is null, not a string"},
      {R"({"choices":[{"message":{}}]})", "no choices[0].message.content"}};
  for (const auto& [body, what] : bad) {
    auto r = parse_reply(Api::kChat, body);
    INFO(body);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find(what) != std::string::npos);
  }
  CHECK(telltale::query::reply_error_excerpt(std::string(500, 'a') + "\n").size() == 203);
  CHECK(telltale::query::reply_error_excerpt("line\nbreak") == "line\\x0abreak");
}

TEST_CASE("retry delays double up to their cap and Retry-After holds requests back", "[radio][query]") {
  telltale::query::RetryPolicy p;
  p.base_delay_s = 0.5;
  p.max_delay_s = 3;
  CHECK(telltale::query::backoff_delay_s(p, 1) == 0.5);
  CHECK(telltale::query::backoff_delay_s(p, 2) == 1.0);
  CHECK(telltale::query::backoff_delay_s(p, 3) == 2.0);
  CHECK(telltale::query::backoff_delay_s(p, 4) == 3.0);
  CHECK(telltale::query::backoff_delay_s(p, 60) == 3.0);

  using telltale::query::RateLimiter;
  std::vector<double> slept;
  RateLimiter limiter(
      1.0, [&](RateLimiter::Clock::duration d) { slept.push_back(std::chrono::duration<double>(d).count()); });
  limiter.acquire();
  CHECK(slept.empty());  // the first request goes at once
  limiter.hold_off(30);
  limiter.acquire();
  REQUIRE(slept.size() == 1);
  CHECK(slept[0] > 29);  // the clock did not move 1 s between the calls
  CHECK(slept[0] <= 30);
}

TEST_CASE("the query log refuses damage and a second writer, and cuts off only a torn last line", "[radio][query]") {
  using telltale::query::QueryLog;
  ScratchDir dir("query-log");
  const nlohmann::json header = {{"telltale_query_log", 1}, {"model", "m"}, {"started_at", "t0"}};
  const std::string path = dir.path("log.jsonl");
  {
    auto log = QueryLog::open(path, header);
    REQUIRE(log.is_ok());
    REQUIRE(log->append_answer({{"index", 0}, {"prompt", "a"}, {"response", "b"}}).is_ok());
    CHECK(!log->append_answer({{"index", 0}, {"prompt", "a"}, {"response", "c"}}).is_ok());  // already answered
    auto second = QueryLog::open(path, header);
    REQUIRE(!second.is_ok());
    CHECK(second.status().message().find("in use by another run") != std::string::npos);
  }
  nlohmann::json later = header;
  later["started_at"] = "t1";  // ignored
  auto reopened = QueryLog::open(path, later);
  REQUIRE(reopened.is_ok());
  CHECK(reopened->answered().size() == 1);
  CHECK(reopened->torn_bytes_dropped() == 0);

  const std::string good = telltale::test::slurp(path);
  const std::string h = header.dump() + "\n";
  const std::string answer = R"({"index":1,"prompt":"x","response":"y"})"
                             "\n";
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {h + "{broken\n" + answer, ":2: not a JSON object"},
      {h + answer + answer, ":3: index 1 answered twice"},
      {h + R"({"index":-1,"prompt":"x","response":"y"})"
           "\n",
       ":2: missing or bad 'index'"},
      {h + R"({"index":2,"prompt":"x"})"
           "\n",
       ":2: answer line without"},
      {R"({"telltale_query_log":2})"
       "\n",
       ":1: query log version 2 is not supported"},
      {nlohmann::json({{"telltale_query_log", 1}, {"model", "n"}}).dump() + "\n", "'model' is \"n\""}};
  for (const auto& [text, what] : damaged) {
    const std::string p = dir.file("damaged.jsonl", text);
    auto log = QueryLog::open(p, header);
    INFO(text);
    REQUIRE(!log.is_ok());
    CHECK(log.status().message().find(what) != std::string::npos);
  }
  const std::string p = dir.file("torn.jsonl", h + answer + R"({"index":2,"pro)");
  {
    auto log = QueryLog::open(p, header);
    REQUIRE(log.is_ok());
    CHECK(log->torn_bytes_dropped() == std::string(R"({"index":2,"pro)").size());
    CHECK(log->answered().size() == 1);
  }
  CHECK(telltale::test::slurp(p) == h + answer);
}
