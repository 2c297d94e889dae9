// The query loop: one prompt at a time, each attempt rate-limited, each outcome logged before the next request.
#include "query/suspect_query.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>
#include <thread>

#include "query/api_key.hpp"

namespace telltale::query {
namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool retryable_status(long status) { return status == 408 || status == 425 || status == 429 || status >= 500; }

// Wipes strings that held a secret (the API key's header) before their memory is released.
struct WipeOnExit {
  std::vector<std::string>& strings;
  ~WipeOnExit() {
    for (std::string& x : strings) sodium_memzero(x.data(), x.size());
  }
};

}  // namespace

nlohmann::json query_log_header(const QuerySettings& s, const PromptSet& prompts, const std::string& prompts_file) {
  nlohmann::json h = {{"telltale_query_log", kQueryLogVersion}, {"endpoint", redact_url(s.endpoint)},
                      {"api", api_name(s.request.api)},         {"model", s.request.model},
                      {"max_tokens", s.request.max_tokens},     {"temperature", s.request.temperature},
                      {"prompts_sha256", prompts.sha256_hex},   {"prompt_count", prompts.prompts.size()},
                      {"prompts_file", prompts_file},           {"started_at", utc_now()}};
  if (s.request.seed) h["seed"] = *s.request.seed;
  return h;
}

AttemptOutcome classify_reply(Api api, const HttpReply& reply) {
  AttemptOutcome o;
  if (reply.status == 0) {
    o.kind = AttemptOutcome::kRetry;
    o.error = reply.timed_out ? "timed out" : reply.transport_error;
    return o;
  }
  if (reply.status != 200) {
    o.kind = retryable_status(reply.status) ? AttemptOutcome::kRetry : AttemptOutcome::kFatal;
    o.error = "HTTP " + std::to_string(reply.status) + ": " + reply_error_excerpt(reply.body);
    return o;
  }
  auto parsed = parse_reply(api, reply.body);
  if (!parsed) {
    // A 200 with a body we cannot read is most often a proxy's or an overloaded server's fault: try again.
    o.kind = AttemptOutcome::kRetry;
    o.error = parsed.status().message();
    return o;
  }
  o.kind = AttemptOutcome::kAnswer;
  o.answer = std::move(parsed).value();
  return o;
}

double backoff_delay_s(const RetryPolicy& p, uint32_t attempt) {
  double d = p.base_delay_s;
  for (uint32_t i = 1; i < attempt && d < p.max_delay_s; ++i) d *= 2;
  return d < p.max_delay_s ? d : p.max_delay_s;
}

Result<QueryStats> run_queries(const QuerySettings& s, const PromptSet& prompts, QueryLog& log, HttpClient& client,
                               const std::function<void(const QueryStats&)>& progress, RateLimiter::Sleep sleep) {
  if (!(s.requests_per_second >= kMinRequestsPerSecond && s.requests_per_second <= kMaxRequestsPerSecond))
    return invalid_argument("--rate must be in [0.001, 10000] requests per second");
  if (!(s.retry.base_delay_s >= 0 && s.retry.base_delay_s <= s.retry.max_delay_s &&
        s.retry.max_delay_s <= kMaxRetryDelayS))
    return invalid_argument("--retry-delay must be at least 0 and at most --max-retry-delay, itself at most 3600 s");
  if (s.retry.max_attempts == 0) return invalid_argument("--attempts must be at least 1");
  if (!sleep) sleep = [](RateLimiter::Clock::duration d) { std::this_thread::sleep_for(d); };
  QueryStats stats;
  stats.prompts = prompts.prompts.size();
  for (const auto& [index, prompt] : log.answered()) {
    if (index >= prompts.prompts.size() || prompt != prompts.prompts[index])
      return invalid_argument("the log answers prompt " + std::to_string(index) +
                              ", which is not that prompt of this prompt file");
  }
  stats.answered_before = log.answered().size();

  std::vector<std::string> headers;
  WipeOnExit wipe{headers};
  if (!s.api_key.empty()) {
    headers.emplace_back();
    headers.back().reserve(22 + s.api_key.size());  // no reallocation: no unwiped copy left behind
    headers.back().append("Authorization: Bearer ").append(s.api_key);
  }

  const std::string url = s.endpoint + api_path(s.request.api);
  RateLimiter limiter(s.requests_per_second, sleep);
  const KeyRedactor redactor(s.api_key);
  std::mt19937_64 jitter_rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.0);

  for (uint64_t index = 0; index < prompts.prompts.size(); ++index) {
    if (log.answered().count(index)) continue;
    const std::string& prompt = prompts.prompts[index];
    const nlohmann::json body = request_body(s.request, prompt);
    const std::string body_text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string last_error;
    bool answered = false;
    for (uint32_t attempt = 1; attempt <= s.retry.max_attempts && !answered; ++attempt) {
      limiter.acquire();
      auto reply = client.post_json(url, body_text, headers);
      if (!reply) return reply.status();
      ++stats.requests;
      redactor.redact(reply->body);  // a server may quote the key back: it must reach no log and no message
      AttemptOutcome o = classify_reply(s.request.api, *reply);
      redactor.redact(o.error);
      if (o.kind == AttemptOutcome::kAnswer) {
        redactor.redact(o.answer.text);
        redactor.redact(o.answer.reply);
        nlohmann::json line = {{"index", index},
                               {"prompt", prompt},
                               {"response", o.answer.text},
                               {"finish_reason", o.answer.finish_reason},
                               {"attempts", attempt},
                               {"http_status", reply->status},
                               {"at", utc_now()},
                               {"request", body},
                               {"reply", o.answer.reply}};
        TT_RETURN_IF_ERROR(log.append_answer(line));
        ++stats.answered_now;
        answered = true;
        break;
      }
      ++stats.failed_attempts;
      last_error = o.error;
      const bool last = o.kind == AttemptOutcome::kFatal || attempt == s.retry.max_attempts;
      double wait = 0;
      if (!last) {
        wait = backoff_delay_s(s.retry, attempt) * jitter(jitter_rng);
        if (reply->retry_after_s) wait = std::max(wait, std::min(*reply->retry_after_s, s.retry.max_retry_after_s));
      }
      nlohmann::json line = {{"index", index},
                             {"attempt", attempt},
                             {"error", o.error},
                             {"http_status", reply->status},
                             {"at", utc_now()}};
      if (!last) line["retry_in_s"] = wait;
      TT_RETURN_IF_ERROR(log.append_failure(line));
      if (o.kind == AttemptOutcome::kFatal)
        return Status(StatusCode::kIo, "prompt " + std::to_string(index) + ": " + o.error +
                                           " (not retried; the log keeps " + std::to_string(log.answered().size()) +
                                           " answers, and the same command resumes)");
      if (!last) limiter.hold_off(wait);
    }
    if (!answered)
      return Status(StatusCode::kIo, "prompt " + std::to_string(index) + ": no answer after " +
                                         std::to_string(s.retry.max_attempts) + " attempts (last: " + last_error +
                                         "); the log keeps " + std::to_string(log.answered().size()) +
                                         " answers, and the same command resumes");
    if (progress) progress(stats);
  }
  return stats;
}

}  // namespace telltale::query
