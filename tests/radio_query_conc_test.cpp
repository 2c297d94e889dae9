// `telltale radioactivity query` with several requests in flight: every prompt answered exactly once under slow
// answers, 429 (Retry-After in seconds and as an HTTP-date), dropped connections, malformed JSON, a huge body and a
// redirect; --rate a ceiling over all workers; kills at any moment resumed; and the answers' logprobs in the log.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "openai_test_server.hpp"
#include "query/api_key.hpp"
#include "query/rate_limiter.hpp"
#include "query/suspect_query.hpp"
#include "query_test_support.hpp"
#include "run_command.hpp"
#include "verify_test_support.hpp"

namespace {

using telltale::test::Fault;
using telltale::test::OpenAiTestServer;
using telltale::test::ScratchDir;

using namespace telltale::test::query_cli;  // NOLINT(google-build-using-namespace)

// Enough prompts for several workers to be busy at once.
std::vector<std::string> many_prompts(int count = 12) {
  std::vector<std::string> p;
  for (int i = 0; i < count; ++i) p.push_back(kPrompts[i % kPrompts.size()] + " (" + std::to_string(i) + ")");
  return p;
}

// Every prompt answered exactly once under its own index.
void check_each_once(const LogLines& l, const std::vector<std::string>& prompts) {
  std::map<uint64_t, int> seen;
  for (const auto& a : l.answers) {
    const auto i = a.at("index").get<uint64_t>();
    REQUIRE(i < prompts.size());
    CHECK(a.at("prompt") == prompts[i]);
    ++seen[i];
  }
  CHECK(seen.size() == prompts.size());
  for (const auto& [i, n] : seen) {
    INFO("index " << i << " answered " << n << " times");
    CHECK(n == 1);
  }
}

std::string prompt_of(const telltale::test::HttpRequest& r) {
  return nlohmann::json::parse(r.body).at("messages").back().at("content").get<std::string>();
}

std::set<std::string> logged_prompts(const std::string& log) {
  std::set<std::string> out;
  for (const auto& a : read_log(log).answers) out.insert(a.at("prompt").get<std::string>());
  return out;
}

pid_t spawn(const std::string& command) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("answers carry the server's logprobs and top_logprobs, asked for and logged in the chat shape",
          "[radio][query][logprobs]") {
  for (const std::string api : {"chat", "completions"}) {
    INFO("--api " << api);
    ScratchDir dir("query-logprobs-" + api);
    OpenAiTestServer server(telltale::test::reference_model_answerer(""));
    prompt_file(dir, {kPrompts[0], kPrompts[1]});
    const Run q = run(dir, query_args(server, "--api " + api + " --top-logprobs 3"));
    INFO(q.err);
    REQUIRE(q.rc == 0);
    CHECK(nlohmann::json::parse(q.out).at("answers_without_logprobs") == 0);
    const auto body = nlohmann::json::parse(server.requests().at(0).body);
    if (api == "chat") {
      CHECK(body.at("logprobs") == true);
      CHECK(body.at("top_logprobs") == 3);
    } else {
      CHECK(body.at("logprobs") == 3);
      CHECK(!body.contains("top_logprobs"));
    }
    const LogLines log = read_log(dir.path("log.jsonl"));
    CHECK(log.header.at("logprobs") == true);
    CHECK(log.header.at("top_logprobs") == 3);
    REQUIRE(log.answers.size() == 2);
    for (const auto& a : log.answers) {
      const auto& lp = a.at("logprobs");
      REQUIRE(lp.is_array());
      REQUIRE(!lp.empty());
      std::string joined;
      for (const auto& e : lp) {
        const std::string token = e.at("token").get<std::string>();
        joined += token;
        std::string from_bytes;
        for (const auto& b : e.at("bytes")) from_bytes.push_back(static_cast<char>(b.get<int>()));
        CHECK(from_bytes == token);
        CHECK(e.at("logprob").get<double>() <= 0);
        const auto& top = e.at("top_logprobs");
        REQUIRE(top.size() == 3);
        CHECK(top[0].at("token") == token);  // the most likely first, in both APIs
        CHECK(top[0].at("logprob") == e.at("logprob"));
        CHECK(top[1].at("logprob").get<double>() > top[2].at("logprob").get<double>());
        CHECK(top[2].at("token") == token + "~2");
      }
      CHECK(joined == a.at("response").get<std::string>());
      // Kept once: the raw copy is cut out of the logged reply.
      CHECK(!a.at("reply").at("choices").at(0).contains("logprobs"));
    }
  }
}

TEST_CASE("a reply without logprobs is logged without the field and counted; malformed ones are retried",
          "[radio][query][logprobs]") {
  ScratchDir dir("query-no-logprobs");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0], kPrompts[1], kPrompts[2]});
  server.script({Fault::kNoLogprobs, Fault::kBadLogprobs});
  const Run q = run(dir, query_args(server));
  const auto j = succeeded(q);
  CHECK(j.at("answers_without_logprobs") == 1);
  CHECK(j.at("failed_attempts") == 1);
  const LogLines log = read_log(dir.path("log.jsonl"));
  REQUIRE(log.answers.size() == 3);
  CHECK(!log.answers[0].contains("logprobs"));
  CHECK(log.answers[1].contains("logprobs"));
  REQUIRE(log.failures.size() == 1);
  CHECK(log.failures[0].at("error") == "choices[0].logprobs.content[0].logprob is positive, not a log-probability");
}

TEST_CASE("logprobs are read field by field and refused with the first bad place", "[radio][query][logprobs]") {
  using telltale::query::Api;
  using telltale::query::parse_reply;
  const std::string pre = R"({"choices":[{"message":{"content":"hi"},"logprobs":)";
  auto ok = parse_reply(Api::kChat, pre + R"({"content":[{"token":"hi","logprob":-0.5,"extra":1,
      "top_logprobs":[{"token":"hi","bytes":[104,105],"logprob":-0.5}]}]}}]})");
  REQUIRE(ok.is_ok());
  REQUIRE(ok->logprobs);
  // Missing bytes become null; members the contract does not name are dropped.
  CHECK(*ok->logprobs == nlohmann::json::parse(R"([{"token":"hi","bytes":null,"logprob":-0.5,
      "top_logprobs":[{"token":"hi","bytes":[104,105],"logprob":-0.5}]}])"));
  CHECK(!parse_reply(Api::kChat, pre + "null}]}")->logprobs);
  CHECK(!parse_reply(Api::kChat, pre + R"({"content":null}}]})")->logprobs);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"3}]}", "choices[0].logprobs is not an object"},
      {R"({"content":{}}}]})", "choices[0].logprobs.content is not an array"},
      {R"({"content":[1]}}]})", "content[0] is not an object"},
      {R"({"content":[{"logprob":-1}]}}]})", "content[0].token is missing or not a string"},
      {R"({"content":[{"token":"a"}]}}]})", "content[0].logprob is missing"},
      {R"({"content":[{"token":"a","logprob":"x"}]}}]})", "content[0].logprob is string, not a number"},
      {R"({"content":[{"token":"a","logprob":0.01}]}}]})", "content[0].logprob is positive"},
      {R"({"content":[{"token":"a","logprob":-1,"bytes":[256]}]}}]})", "content[0].bytes holds a value that is not"},
      {R"({"content":[{"token":"a","logprob":-1,"bytes":"a"}]}}]})", "content[0].bytes is string, not an array"},
      {R"({"content":[{"token":"a","logprob":-1,"top_logprobs":{}}]}}]})", "content[0].top_logprobs is not an array"},
      {R"({"content":[{"token":"a","logprob":-1,"top_logprobs":[{"token":"b","logprob":1}]}]}}]})",
       "content[0].top_logprobs[0].logprob is positive"}};
  for (const auto& [tail, what] : bad) {
    auto r = parse_reply(Api::kChat, pre + tail);
    INFO(tail);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find(what) != std::string::npos);
  }

  // The legacy completions form becomes the chat form, alternatives by decreasing logprob.
  const std::string legacy = R"({"choices":[{"text":"ab","logprobs":)";
  auto conv = parse_reply(Api::kCompletions, legacy + R"({"tokens":["a","b"],"token_logprobs":[-0.1,-0.2],
      "top_logprobs":[{"z":-3,"a":-0.1},null],"text_offset":[0,1]}}]})");
  REQUIRE(conv.is_ok());
  CHECK(*conv->logprobs == nlohmann::json::parse(R"([
      {"token":"a","bytes":[97],"logprob":-0.1,"top_logprobs":[{"token":"a","bytes":[97],"logprob":-0.1},
                                                                {"token":"z","bytes":[122],"logprob":-3}]},
      {"token":"b","bytes":[98],"logprob":-0.2,"top_logprobs":[]}])"));
  const std::vector<std::pair<std::string, std::string>> bad_legacy = {
      {R"({"tokens":["a"],"token_logprobs":[]}}]})", "token_logprobs is not an array as long as 'tokens'"},
      {R"({"tokens":["a"],"token_logprobs":[null]}}]})", "token_logprobs[0] is null, not a number"},
      {R"({"tokens":[1],"token_logprobs":[-1]}}]})", "tokens[0] is not a string"},
      {R"({"tokens":["a"],"token_logprobs":[-1],"top_logprobs":[[]]}}]})", "top_logprobs[0] is not an object"},
      {R"({"tokens":["a"],"token_logprobs":[-1],"top_logprobs":[{"a":2}]}}]})", "top_logprobs[0]'s value 0 is posi"},
      {R"({"tokens":["a"],"token_logprobs":[-1],"text_offset":[]}}]})", "text_offset is not an array as long"}};
  for (const auto& [tail, what] : bad_legacy) {
    auto r = parse_reply(Api::kCompletions, legacy + tail);
    INFO(tail);
    REQUIRE(!r.is_ok());
    CHECK(r.status().message().find(what) != std::string::npos);
  }
}

TEST_CASE("query --concurrency keeps several requests in flight and answers every prompt once under every fault",
          "[radio][query][concurrency]") {
  ScratchDir dir("query-conc-faults");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  server.set_slow_ms(300);
  const auto prompts = many_prompts();
  prompt_file(dir, prompts);
  server.script({Fault::kSlow, Fault::kSlow, Fault::kSlow, Fault::kTooMany, Fault::kDrop, Fault::kMalformedJson,
                 Fault::kHugeBody, Fault::kUnavailable, Fault::kSlow});
  const Run q = run(dir, query_args(server, "--concurrency 4 --timeout 5 --attempts 8"));
  const auto j = succeeded(q);
  CHECK(j.at("complete") == true);
  CHECK(j.at("failed_attempts") == 5);
  CHECK(j.at("requests") == prompts.size() + 5);
  CHECK(server.requests().size() == prompts.size() + 5);
  CHECK(server.max_in_flight() >= 2);
  CHECK(server.max_in_flight() <= 4);
  const LogLines log = read_log(dir.path("log.jsonl"));
  check_each_once(log, prompts);
  REQUIRE(log.failures.size() == 5);
  std::multiset<std::string> errors;
  for (const auto& f : log.failures) {
    const std::string e = f.at("error").get<std::string>();
    if (e.find("HTTP 429: rate limited") != std::string::npos) errors.insert("429");
    if (e.find("reply is not JSON") != std::string::npos) errors.insert("json");
    if (e.find("reply larger than 8388608 bytes") != std::string::npos) errors.insert("huge");
    if (e.find("HTTP 503: overloaded") != std::string::npos) errors.insert("503");
    if (f.at("http_status") == 0 && e.find("larger") == std::string::npos) errors.insert("dropped");
  }
  CHECK(errors == std::multiset<std::string>{"429", "json", "huge", "503", "dropped"});
}

TEST_CASE("a Retry-After given as an HTTP-date holds back every worker until that date",
          "[radio][query][concurrency]") {
  ScratchDir dir("query-retry-date");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  server.set_slow_ms(600);  // the other workers' first answers come long after the 429 is read, even on a busy machine
  prompt_file(dir);
  server.script({Fault::kTooManyDate, Fault::kSlow, Fault::kSlow, Fault::kSlow});
  const Run q = run(dir, query_args(server, "--concurrency 4"));
  INFO(q.err);
  REQUIRE(q.rc == 0);
  const LogLines log = read_log(dir.path("log.jsonl"));
  REQUIRE(log.failures.size() == 1);
  const double wait = log.failures[0].at("retry_in_s").get<double>();
  CHECK(wait >= 1);  // 2 s ahead, read with whole seconds on both sides
  CHECK(wait <= 2);
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == kPrompts.size() + 1);
  // The four first requests went at once; every later one, the retry and the other workers' next prompts, waited.
  for (size_t i = 4; i < reqs.size(); ++i) {
    INFO("request " << i);
    CHECK(std::chrono::duration<double>(reqs[i].at - reqs[0].at).count() >= wait - 0.05);
  }
  check_each_once(log, kPrompts);
}

TEST_CASE("query --rate caps the requests of all workers together", "[radio][query][concurrency]") {
  ScratchDir dir("query-conc-rate");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  const auto prompts = many_prompts();
  prompt_file(dir, prompts);
  const auto start = std::chrono::steady_clock::now();
  const Run q = run(dir, "radioactivity query -q -e " + server.base_url() +
                             " -m suspect -p prompts.jsonl -o log.jsonl --max-tokens 8 --rate 20 --concurrency 8");
  INFO(q.err);
  REQUIRE(q.rc == 0);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == prompts.size());
  // The last request's slot is at least (n - 1) / rate after the run began, however the eight workers raced.
  std::sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  const double elapsed = std::chrono::duration<double>(reqs.back().at - start).count();
  CHECK(elapsed >= (static_cast<double>(prompts.size()) - 1) / 20);

  // The limiter's slots, booked from several threads at once, are each at least 1/rate apart.
  using telltale::query::RateLimiter;
  RateLimiter limiter(100, [](RateLimiter::Clock::duration) {});
  std::mutex mu;
  std::vector<RateLimiter::Clock::time_point> slots;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const auto at = limiter.acquire();
        std::lock_guard lock(mu);
        slots.push_back(at);
      }
    });
  for (auto& t : threads) t.join();
  std::sort(slots.begin(), slots.end());
  for (size_t i = 1; i < slots.size(); ++i)
    CHECK(std::chrono::duration<double>(slots[i] - slots[i - 1]).count() >= 0.01 - 1e-9);
}

TEST_CASE("the retry jitter is in [1/2, 1], fixed by its seed, and differs between prompts", "[radio][query]") {
  using telltale::query::retry_jitter;
  std::set<double> values;
  for (uint64_t index = 0; index < 100; ++index) {
    const double j = retry_jitter(7, index, 1);
    CHECK(j >= 0.5);
    CHECK(j <= 1.0);
    CHECK(j == retry_jitter(7, index, 1));
    values.insert(j);
  }
  CHECK(values.size() == 100);
  CHECK(retry_jitter(7, 0, 1) != retry_jitter(8, 0, 1));
  CHECK(retry_jitter(7, 0, 1) != retry_jitter(7, 0, 2));
}

TEST_CASE("a redirect is not followed: the run stops with one line, keeps the answers in flight, and resumes",
          "[radio][query][concurrency]") {
  ScratchDir dir("query-conc-redirect");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  const auto prompts = many_prompts();
  prompt_file(dir, prompts);
  server.script({Fault::kNone, Fault::kRedirect});
  const Run q = run(dir, query_args(server, "--concurrency 3"));
  CHECK(q.rc == 2);
  CHECK(q.out.empty());
  CHECK(q.err.find(": HTTP 307: moved (not retried; the log keeps ") != std::string::npos);
  CHECK(std::count(q.err.begin(), q.err.end(), '\n') == 1);
  for (const auto& r : server.requests()) CHECK(r.path != "/v1/elsewhere");
  const size_t kept = read_log(dir.path("log.jsonl")).answers.size();
  CHECK(kept < prompts.size());

  const Run resumed = run(dir, query_args(server, "--concurrency 3"));
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK(nlohmann::json::parse(resumed.out).at("answered_before") == kept);
  check_each_once(read_log(dir.path("log.jsonl")), prompts);
}

TEST_CASE("runs under concurrency killed at any moment resume with every prompt answered exactly once",
          "[radio][query][concurrency]") {
  ScratchDir dir("query-conc-kill");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  server.set_slow_ms(60);
  const auto prompts = many_prompts(24);
  prompt_file(dir, prompts);
  const std::string command = "cd " + dir.str() + " && exec " + telltale::test::telltale_binary() + " " +
                              query_args(server, "--concurrency 4") + " >/dev/null 2>&1";

  // First a kill while a request is held and others are slow: several in flight at the kill.
  server.script({Fault::kSlow, Fault::kHold, Fault::kSlow, Fault::kSlow});
  pid_t pid = spawn(command);
  REQUIRE(pid > 0);
  server.wait_for_hold();
  REQUIRE(::kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  server.release();

  // Then kills after delays drawn with a fixed seed, every answer slow so that some are always in flight. Each run
  // sends no prompt that the log answered when it started (a killed run's in-flight prompts are not answered yet).
  std::mt19937 rng(20261206);
  std::uniform_int_distribution<int> delay_ms(0, 30);
  const std::string log_path = dir.path("log.jsonl");
  auto check_no_resend = [&](size_t from, const std::set<std::string>& answered) {
    const auto reqs = server.requests();
    for (size_t i = from; i < reqs.size(); ++i) {
      INFO("request " << i << ": " << prompt_of(reqs[i]));
      CHECK(answered.count(prompt_of(reqs[i])) == 0);
    }
  };
  // Answer lines written so far (a line being written may be torn: count whole ones only).
  auto answers_logged = [&] {
    const std::string text = ::access(log_path.c_str(), F_OK) == 0 ? telltale::test::slurp(log_path) : "";
    size_t n = 0;
    for (size_t at = text.find("\"response\":"); at != std::string::npos; at = text.find("\"response\":", at + 1))
      if (text.find('\n', at) != std::string::npos) ++n;
    return n;
  };
  for (size_t round = 0; round < 3; ++round) {
    const std::set<std::string> answered = logged_prompts(log_path);
    const size_t from = server.requests().size();
    server.script(std::vector<Fault>(20, Fault::kSlow));
    pid = spawn(command);
    REQUIRE(pid > 0);
    // Kill once the run has logged two more answers, plus a random moment: never before it has done something.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (answers_logged() < answered.size() + 2 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));  // killed while still at work, not finished
    check_no_resend(from, answered);
  }
  server.script({});
  const std::set<std::string> answered = logged_prompts(log_path);
  const size_t from = server.requests().size();
  const Run last = run(dir, query_args(server, "--concurrency 4"));
  const auto j = succeeded(last);
  CHECK(answered.size() >= 6);
  CHECK(j.at("answered_before") == answered.size());
  CHECK(j.at("answered_now") == prompts.size() - answered.size());
  check_no_resend(from, answered);
  check_each_once(read_log(log_path), prompts);
}

TEST_CASE("a log asked for other logprobs is not resumed, one run with other workers is",
          "[radio][query][concurrency]") {
  ScratchDir dir("query-conc-header");
  OpenAiTestServer server(telltale::test::reference_model_answerer(""));
  prompt_file(dir, {kPrompts[0], kPrompts[1]});
  REQUIRE(run(dir, query_args(server, "--top-logprobs 5")).rc == 0);
  const Run other = run(dir, query_args(server, "--top-logprobs 4"));
  CHECK(other.rc == 2);
  CHECK(other.err.find("its 'top_logprobs' is 5, this run's is 4") != std::string::npos);
  // The number of workers is no setting of the log: another one resumes it.
  CHECK(run(dir, query_args(server, "--top-logprobs 5 --concurrency 3")).rc == 0);
}

TEST_CASE("the API key is cut out of logprob tokens and bytes, and logprobs that spell it across tokens are refused",
          "[radio][query][logprobs]") {
  const std::string key = "sk-split-key-42";
  const telltale::query::KeyRedactor redactor(key);
  auto entry = [](const std::string& token, const std::string& bytes) {
    nlohmann::json b = nlohmann::json::array();
    for (char c : bytes) b.push_back(static_cast<unsigned char>(c));
    return nlohmann::json{{"token", token}, {"bytes", b}, {"logprob", -1.0}, {"top_logprobs", nlohmann::json::array()}};
  };
  auto bytes_of = [](const nlohmann::json& e) {
    std::string s;
    for (const auto& b : e.at("bytes")) s.push_back(static_cast<char>(b.get<int>()));
    return s;
  };
  nlohmann::json whole = nlohmann::json::array({entry(" " + key, " " + key), entry("x", "x")});
  whole[1]["top_logprobs"].push_back(entry("y", key));  // the key hidden in an alternative's bytes only
  CHECK(redactor.redact_logprobs(whole));
  CHECK(whole[0].at("token") == " [redacted]");
  CHECK(bytes_of(whole[0]) == " [redacted]");
  CHECK(bytes_of(whole[1].at("top_logprobs")[0]) == "[redacted]");
  CHECK(whole.dump().find(key) == std::string::npos);

  nlohmann::json split = nlohmann::json::array({entry("sk-split", "sk-split"), entry("-key-42", "-key-42")});
  CHECK(!redactor.redact_logprobs(split));
  nlohmann::json split_bytes = nlohmann::json::array({entry("a", "sk-split-"), entry("b", "key-42")});
  CHECK(!redactor.redact_logprobs(split_bytes));
  nlohmann::json clean = nlohmann::json::array({entry("sk-split", "sk-split")});
  CHECK(redactor.redact_logprobs(clean));
  CHECK(clean[0].at("token") == "sk-split");
}
