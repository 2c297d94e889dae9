// Asks a closed suspect model every prompt of a set through its OpenAI-compatible API and logs each answer, with
// up to N requests in flight, rate limiting, retries with exponential backoff, and resumption from the log
// (spec/radioactivity.md, section 5.1).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "query/http_client.hpp"
#include "query/openai_protocol.hpp"
#include "query/prompt_file.hpp"
#include "query/query_log.hpp"
#include "query/rate_limiter.hpp"

namespace telltale::query {

// The longest retry delay, in seconds, that --retry-delay and --max-retry-delay may ask for.
inline constexpr double kMaxRetryDelayS = 3600;
// The most requests in flight at once: more only multiplies the 429s a real API answers.
inline constexpr uint32_t kMaxConcurrency = 64;

struct RetryPolicy {
  uint32_t max_attempts = 6;       // per prompt, the first one included
  double base_delay_s = 1.0;       // before the 2nd attempt; doubled for each further one, with jitter in [1/2, 1]
  double max_delay_s = 60.0;       // cap of the backoff
  double max_retry_after_s = 300;  // a server's Retry-After is obeyed up to this
  // Seeds the jitter (retry_jitter); drawn from std::random_device when not given.
  std::optional<uint64_t> jitter_seed;
};

struct QuerySettings {
  std::string endpoint;  // base URL, e.g. http://127.0.0.1:8000/v1; the API's path is appended
  RequestSettings request;
  RetryPolicy retry;
  double requests_per_second = 1.0;  // a ceiling over all requests in flight together
  uint32_t concurrency = 1;          // requests in flight at most, in [1, kMaxConcurrency]
  // Sent as "Authorization: Bearer ..." when not empty; never logged, and cut out of every server text (an echo)
  // before it is logged or returned in a message. A view of the caller's guarded copy (take_api_key_from_env).
  std::string_view api_key;
};

struct QueryStats {
  uint64_t prompts = 0;
  uint64_t answered_before = 0;  // found in the log when the run started
  uint64_t answered_now = 0;
  uint64_t requests = 0;                  // HTTP requests sent by this run
  uint64_t failed_attempts = 0;           // by this run, each logged
  uint64_t answers_without_logprobs = 0;  // of answered_now: the server sent none (or they spelled out the API key)
};

// The log's header for these settings and prompts.
nlohmann::json query_log_header(const QuerySettings& settings, const PromptSet& prompts,
                                const std::string& prompts_file);

// What to do with one HTTP reply.
struct AttemptOutcome {
  enum Kind { kAnswer, kRetry, kFatal } kind = kFatal;
  std::string error;   // for kRetry and kFatal, one line
  ParsedReply answer;  // for kAnswer
};
AttemptOutcome classify_reply(Api api, const HttpReply& reply);

// The wait before attempt `attempt` + 1 (attempt >= 1), before jitter: base * 2^(attempt - 1), capped.
double backoff_delay_s(const RetryPolicy& policy, uint32_t attempt);

// The jitter factor, in [1/2, 1], that multiplies that wait for prompt `index`: a function of the seed, the index and
// the attempt only (SplitMix64), so that concurrent workers retrying at once spread out, and a test can replay it.
double retry_jitter(uint64_t seed, uint64_t index, uint32_t attempt);

// Sends every prompt the log has not answered yet, taken in index order by up to settings.concurrency workers, each
// with its own HttpClient made from `http`, and appends each answer (and each failed attempt) to the log as it comes
// (in completion order; one line at a time under a lock, each fsync'd). Stops at the first prompt that fails for
// good (after max_attempts, or at once on an answer that retrying cannot change, such as 401, 404 or a redirect):
// no new request is started, the requests in flight are waited for and logged, and the error names that prompt;
// what was logged stays, and running again resumes. `progress` is called after each prompt (under the lock);
// `sleep` waits (the real one by default; it is called from several threads).
Result<QueryStats> run_queries(const QuerySettings& settings, const PromptSet& prompts, QueryLog& log,
                               const HttpSettings& http, const std::function<void(const QueryStats&)>& progress = {},
                               RateLimiter::Sleep sleep = {});

}  // namespace telltale::query
