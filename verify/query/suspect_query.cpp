// The query loop: N worker threads, each with its own libcurl easy handle (the blocking client keeps its timeouts and
// reply cap as they are; a prompt's retries stay in one thread), sharing one rate limiter and one locked log writer.
#include "query/suspect_query.hpp"

#include <fmt/chrono.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "query/api_key.hpp"
#include "query/logprobs.hpp"

namespace telltale::query {
namespace {

std::string utc_now() { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))); }

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
  nlohmann::json h = {{"telltale_query_log", kQueryLogVersion},
                      {"endpoint", redact_url(s.endpoint)},
                      {"api", api_name(s.request.api)},
                      {"model", s.request.model},
                      {"max_tokens", s.request.max_tokens},
                      {"temperature", s.request.temperature},
                      {"logprobs", true},
                      {"top_logprobs", s.request.top_logprobs},
                      {"prompts_sha256", prompts.sha256_hex},
                      {"prompt_count", prompts.prompts.size()},
                      {"prompts_file", prompts_file},
                      {"started_at", utc_now()}};
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

double retry_jitter(uint64_t seed, uint64_t index, uint32_t attempt) {
  // SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) of the three.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (index * 0x100000001ULL + attempt + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return 0.5 + 0.5 * static_cast<double>(z >> 11) * 0x1p-53;
}

namespace {

// What the workers share. Everything behind `mu` (the log, the stats, the first failure) changes only under it.
class QueryRun {
 public:
  QueryRun(const QuerySettings& s, const PromptSet& prompts, QueryLog& log, RateLimiter::Sleep sleep,
           const std::function<void(const QueryStats&)>& progress, const std::vector<std::string>& headers)
      : s_(s),
        prompts_(prompts),
        log_(log),
        sleep_(std::move(sleep)),
        progress_(progress),
        headers_(headers),
        url_(s.endpoint + api_path(s.request.api)),
        limiter_(s.requests_per_second, sleep_),
        redactor_(s.api_key),
        jitter_seed_(s.retry.jitter_seed ? *s.retry.jitter_seed
                                         : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()) {}

  void add_pending(uint64_t index) { pending_.push_back(index); }
  QueryStats& stats() { return stats_; }

  // Takes prompts until none is left or the run stops.
  void work(HttpClient& client) {
    while (!stop_) {
      const size_t k = next_++;
      if (k >= pending_.size()) return;
      ask(client, pending_[k]);
    }
  }

  // The run's result once every worker has returned.
  Result<QueryStats> finish() {
    if (!error_.is_ok()) return error_;
    if (prompt_failure_.empty()) return stats_;
    const std::string kept =
        "the log keeps " + std::to_string(log_.answered().size()) + " answers, and the same command resumes";
    return Status(StatusCode::kIo,
                  not_retried_ ? prompt_failure_ + " (not retried; " + kept + ")" : prompt_failure_ + "; " + kept);
  }

 private:
  void stop_with(const Status& st) {
    std::lock_guard lock(mu_);
    if (error_.is_ok() && prompt_failure_.empty()) error_ = st;
    stop_ = true;
  }
  void stop_with_prompt(std::string what, bool not_retried) {
    std::lock_guard lock(mu_);
    if (error_.is_ok() && prompt_failure_.empty()) {
      prompt_failure_ = std::move(what);
      not_retried_ = not_retried;
    }
    stop_ = true;
  }

  // One prompt, with its retries; returns when it is answered, has failed for good, or the run stops.
  void ask(HttpClient& client, uint64_t index) {
    const std::string& prompt = prompts_.prompts[index];
    const nlohmann::json body = request_body(s_.request, prompt);
    const std::string body_text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string last_error;
    for (uint32_t attempt = 1; attempt <= s_.retry.max_attempts; ++attempt) {
      limiter_.acquire();
      if (stop_) return;  // another prompt failed for good while this one waited: send nothing more
      auto reply = client.post_json(url_, body_text, headers_);
      if (!reply) return stop_with(reply.status());
      redactor_.redact(reply->body);  // a server may quote the key back: it must reach no log and no message
      AttemptOutcome o = classify_reply(s_.request.api, *reply);
      redactor_.redact(o.error);
      if (o.kind == AttemptOutcome::kAnswer) return log_answer(index, prompt, body, attempt, *reply, std::move(o));
      last_error = o.error;
      const bool last = o.kind == AttemptOutcome::kFatal || attempt == s_.retry.max_attempts;
      double wait = 0;
      if (!last) {
        wait = backoff_delay_s(s_.retry, attempt) * retry_jitter(jitter_seed_, index, attempt);
        if (reply->retry_after_s) {
          // The server speaks for every request, not only this one: all workers hold back.
          const double asked = std::min(*reply->retry_after_s, s_.retry.max_retry_after_s);
          limiter_.hold_off(asked);
          wait = std::max(wait, asked);
        }
      }
      nlohmann::json line = {{"index", index},
                             {"attempt", attempt},
                             {"error", o.error},
                             {"http_status", reply->status},
                             {"at", utc_now()}};
      if (!last) line["retry_in_s"] = wait;
      {
        std::lock_guard lock(mu_);
        ++stats_.requests;
        ++stats_.failed_attempts;
        if (Status st = log_.append_failure(line); !st.is_ok()) {
          if (error_.is_ok()) error_ = st;
          stop_ = true;
          return;
        }
      }
      if (o.kind == AttemptOutcome::kFatal)
        return stop_with_prompt("prompt " + std::to_string(index) + ": " + o.error, true);
      if (!last && wait > 0) sleep_(RateLimiter::to_duration(wait));
    }
    stop_with_prompt("prompt " + std::to_string(index) + ": no answer after " + std::to_string(s_.retry.max_attempts) +
                         " attempts (last: " + last_error + ")",
                     false);
  }

  void log_answer(uint64_t index, const std::string& prompt, const nlohmann::json& body, uint32_t attempt,
                  const HttpReply& reply, AttemptOutcome o) {
    redactor_.redact(o.answer.text);
    redactor_.redact(o.answer.reply);
    nlohmann::json line = {{"index", index},
                           {"prompt", prompt},
                           {"response", o.answer.text},
                           {"finish_reason", o.answer.finish_reason},
                           {"attempts", attempt},
                           {"http_status", reply.status},
                           {"at", utc_now()},
                           {"request", body},
                           {"reply", std::move(o.answer.reply)}};
    // The log keeps the logprobs once, checked, in "logprobs"; the raw copy would double the line and could hold
    // the key spread over byte arrays that text redaction does not see.
    nlohmann::json& choice = line["reply"]["choices"][0];
    if (choice.is_object()) choice.erase("logprobs");
    const bool with_logprobs = o.answer.logprobs && redactor_.redact_logprobs(*o.answer.logprobs);
    if (with_logprobs) line["logprobs"] = std::move(*o.answer.logprobs);
    std::lock_guard lock(mu_);
    ++stats_.requests;
    if (Status st = log_.append_answer(line); !st.is_ok()) {
      if (error_.is_ok()) error_ = st;
      stop_ = true;
      return;
    }
    ++stats_.answered_now;
    if (!with_logprobs) ++stats_.answers_without_logprobs;
    if (progress_) progress_(stats_);
  }

  const QuerySettings& s_;
  const PromptSet& prompts_;
  QueryLog& log_;
  RateLimiter::Sleep sleep_;
  const std::function<void(const QueryStats&)>& progress_;
  const std::vector<std::string>& headers_;
  const std::string url_;
  RateLimiter limiter_;
  const KeyRedactor redactor_;
  const uint64_t jitter_seed_;
  std::vector<uint64_t> pending_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  QueryStats stats_;
  Status error_ = Status::ok();
  std::string prompt_failure_;
  bool not_retried_ = false;
};

}  // namespace

Result<QueryStats> run_queries(const QuerySettings& s, const PromptSet& prompts, QueryLog& log,
                               const HttpSettings& http, const std::function<void(const QueryStats&)>& progress,
                               RateLimiter::Sleep sleep) {
  if (!(s.requests_per_second >= kMinRequestsPerSecond && s.requests_per_second <= kMaxRequestsPerSecond))
    return invalid_argument("--rate must be in [0.001, 10000] requests per second");
  if (!(s.retry.base_delay_s >= 0 && s.retry.base_delay_s <= s.retry.max_delay_s &&
        s.retry.max_delay_s <= kMaxRetryDelayS))
    return invalid_argument("--retry-delay must be at least 0 and at most --max-retry-delay, itself at most 3600 s");
  if (s.retry.max_attempts == 0) return invalid_argument("--attempts must be at least 1");
  if (s.concurrency < 1 || s.concurrency > kMaxConcurrency)
    return invalid_argument("--concurrency must be in 1.." + std::to_string(kMaxConcurrency));
  if (s.request.top_logprobs > kMaxTopLogprobs)
    return invalid_argument("--top-logprobs must be in 0.." + std::to_string(kMaxTopLogprobs));
  if (!sleep) sleep = [](RateLimiter::Clock::duration d) { std::this_thread::sleep_for(d); };
  for (const auto& [index, prompt] : log.answered()) {
    if (index >= prompts.prompts.size() || prompt != prompts.prompts[index])
      return invalid_argument("the log answers prompt " + std::to_string(index) +
                              ", which is not that prompt of this prompt file");
  }

  std::vector<std::string> headers;
  WipeOnExit wipe{headers};
  if (!s.api_key.empty()) {
    headers.emplace_back();
    headers.back().reserve(22 + s.api_key.size());  // no reallocation: no unwiped copy left behind
    headers.back().append("Authorization: Bearer ").append(s.api_key);
  }

  QueryRun run(s, prompts, log, std::move(sleep), progress, headers);
  run.stats().prompts = prompts.prompts.size();
  run.stats().answered_before = log.answered().size();
  for (uint64_t index = 0; index < prompts.prompts.size(); ++index)
    if (!log.answered().count(index)) run.add_pending(index);

  const uint64_t workers = std::min<uint64_t>(s.concurrency, prompts.prompts.size() - log.answered().size());
  std::vector<HttpClient> clients;  // made here, before any thread, so that curl's global set-up runs once
  for (uint64_t i = 0; i < workers; ++i) {
    auto c = HttpClient::create(http);
    if (!c) return c.status();
    clients.push_back(std::move(c).value());
  }
  if (workers == 1) {
    run.work(clients[0]);  // no thread for the default: the same single loop as before concurrency existed
  } else {
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (HttpClient& c : clients) threads.emplace_back([&run, &c] { run.work(c); });
    for (std::thread& t : threads) t.join();
  }
  return run.finish();
}

}  // namespace telltale::query
