// `telltale radioactivity query`: asks a closed suspect model every prompt of a file through its OpenAI-compatible
// API and keeps a resumable log of every request and answer; `radioactivity score --answers LOG` then tests it.
// Running the same command again after an interruption sends only the prompts the log has not answered.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "numeric_flags.hpp"
#include "query/api_key.hpp"
#include "query/logprobs.hpp"
#include "query/suspect_query.hpp"

namespace telltale::cli {
namespace {

struct QueryOptions {
  std::string endpoint;
  std::string model;
  std::string api = "chat";
  std::string prompts;
  std::string field = "prompt";
  std::string log;
  uint32_t max_tokens = 256;
  double temperature = 1.0;
  uint64_t seed = 0;
  bool seed_given = false;
  double rate = 1.0;
  double timeout = 120;
  uint32_t attempts = 6;
  uint32_t top_logprobs = 20;
  uint32_t concurrency = 1;
  double retry_delay = 1.0;
  double max_retry_delay = 60;
  std::string api_key_env;
  bool quiet = false;
};

int run_query(const QueryOptions& o) {
  if (o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0)
    return fail("--endpoint must be an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1");
  if (!(o.max_retry_delay >= o.retry_delay)) return fail("--retry-delay must be at most --max-retry-delay");
  // Taken first, so that the key leaves the environment even when the run stops early.
  Result<SecretBytes> key =
      o.api_key_env.empty() ? Result<SecretBytes>(SecretBytes()) : query::take_api_key_from_env(o.api_key_env);
  if (!key) return fail(key.status());
  auto api = query::parse_api(o.api);
  if (!api) return fail(api.status());
  auto prompts = query::read_prompts(o.prompts, o.field);
  if (!prompts) return fail(prompts.status());

  query::QuerySettings s;
  s.endpoint = o.endpoint;
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  s.request.api = *api;
  s.request.model = o.model;
  s.request.max_tokens = o.max_tokens;
  s.request.temperature = o.temperature;
  if (o.seed_given) s.request.seed = o.seed;
  s.request.top_logprobs = o.top_logprobs;
  s.requests_per_second = o.rate;
  s.concurrency = o.concurrency;
  s.retry.max_attempts = o.attempts;
  s.retry.base_delay_s = o.retry_delay;
  s.retry.max_delay_s = o.max_retry_delay;
  s.api_key = std::string_view(reinterpret_cast<const char*>(key->data()), key->size());

  auto log = query::QueryLog::open(o.log, query::query_log_header(s, *prompts, o.prompts));
  if (!log) return fail(log.status());
  if (log->torn_bytes_dropped() > 0)
    std::fprintf(stderr, "telltale: %s: cut off a torn last line (%llu bytes) left by an interrupted run\n",
                 o.log.c_str(), static_cast<unsigned long long>(log->torn_bytes_dropped()));
  query::HttpSettings http;
  http.timeout_s = o.timeout;

  const bool show = !o.quiet && ::isatty(STDERR_FILENO);
  auto last = std::chrono::steady_clock::now();
  auto progress = [&](const query::QueryStats& st) {
    const auto now = std::chrono::steady_clock::now();
    if (!show || now - last < std::chrono::seconds(2)) return;
    last = now;
    std::fprintf(stderr, "\rtelltale: %llu/%llu prompts answered, %llu failed attempts   ",
                 static_cast<unsigned long long>(st.answered_before + st.answered_now),
                 static_cast<unsigned long long>(st.prompts), static_cast<unsigned long long>(st.failed_attempts));
  };
  auto stats = query::run_queries(s, *prompts, *log, http, progress);
  if (show) std::fprintf(stderr, "\n");
  if (!stats) return fail(o.log + ": " + stats.status().message());
  nlohmann::json j = {{"log", o.log},
                      {"endpoint", query::redact_url(s.endpoint)},
                      {"api", query::api_name(s.request.api)},
                      {"model", s.request.model},
                      {"prompts", stats->prompts},
                      {"answered_before", stats->answered_before},
                      {"answered_now", stats->answered_now},
                      {"requests", stats->requests},
                      {"failed_attempts", stats->failed_attempts},
                      {"answers_without_logprobs", stats->answers_without_logprobs},
                      {"complete", stats->answered_before + stats->answered_now == stats->prompts}};
  std::printf("%s\n", j.dump(2).c_str());
  return kExitOk;
}

}  // namespace

void add_radioactivity_query_command(CLI::App& radioactivity, int& exit_code) {
  auto o = std::make_shared<QueryOptions>();
  CLI::App* c = radioactivity.add_subcommand(
      "query",
      "Ask a closed suspect model every prompt through its OpenAI-compatible API; log each request and answer to\n"
      "--log (JSONL, resumable: run the same command again after an interruption). Then: score --answers LOG.");
  c->add_option("--endpoint,-e", o->endpoint, "the API's base URL, e.g. http://127.0.0.1:8000/v1")->required();
  c->add_option("--model,-m", o->model, "the suspect's model name, sent as \"model\"")->required();
  c->add_option("--prompts,-p", o->prompts, "prompts: .jsonl (see --field) or text, one prompt per line")->required();
  c->add_option("--field,-f", o->field, "JSONL prompts: the prompt's field")->capture_default_str();
  c->add_option("--log,-o", o->log, "the request log to write, or to resume")->required();
  c->add_option("--api", o->api, "chat (/chat/completions) or completions (/completions)")->capture_default_str();
  c->add_option("--max-tokens", o->max_tokens, "answer length limit")
      ->check(whole_number(1, 1u << 20))
      ->capture_default_str();
  c->add_option("--temperature", o->temperature, "sampling temperature sent to the suspect")
      ->check(real_number(0, 100))
      ->capture_default_str();
  CLI::Option* seed = c->add_option("--seed", o->seed, "sent as \"seed\" when given (best effort on most servers)");
  c->add_option("--rate", o->rate, "requests per second, at most")
      ->check(real_number(query::kMinRequestsPerSecond, query::kMaxRequestsPerSecond))
      ->capture_default_str();
  c->add_option("--concurrency", o->concurrency, "requests in flight at most (--rate still caps them all together)")
      ->check(whole_number(1, query::kMaxConcurrency))
      ->capture_default_str();
  c->add_option("--top-logprobs", o->top_logprobs,
                "alternatives per answer token asked for with its log-probability (chat: top_logprobs; completions: "
                "logprobs)")
      ->check(whole_number(0, query::kMaxTopLogprobs))
      ->capture_default_str();
  c->add_option("--timeout", o->timeout,
                "seconds per request: the whole request, however slowly the server sends its reply")
      ->check(real_number(query::kMinTimeoutS, query::kMaxTimeoutS))
      ->capture_default_str();
  c->add_option("--attempts", o->attempts, "attempts per prompt before the run stops")
      ->check(whole_number(1, 100))
      ->capture_default_str();
  c->add_option("--retry-delay", o->retry_delay, "seconds before the first retry; doubled each time, with jitter")
      ->check(real_number(0, query::kMaxRetryDelayS))
      ->capture_default_str();
  c->add_option("--max-retry-delay", o->max_retry_delay, "cap of the retry delay, seconds")
      ->check(real_number(0, query::kMaxRetryDelayS))
      ->capture_default_str();
  c->add_option(
      "--api-key-env", o->api_key_env,
      "name of the environment variable holding the API key (sent as a Bearer token, never logged or printed; "
      "the variable is removed once read)");
  c->add_flag("--quiet,-q", o->quiet, "no progress line on stderr");
  c->callback([o, seed, &exit_code] {
    o->seed_given = seed->count() > 0;
    exit_code = run_query(*o);
  });
}

}  // namespace telltale::cli
