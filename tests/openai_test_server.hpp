// A small OpenAI-compatible HTTP server on loopback for the closed-model client's tests: it serves the reference
// model (watermarked with a key, or plain) on /v1/chat/completions and /v1/completions, and plays a script of faults
// first: 429 with Retry-After, 5xx, malformed JSON, a reply slower than the client's timeout, a reply dripped a byte
// at a time, a connection closed without an answer, a request held until the test lets it go (to kill the client in
// the middle of a request), a 429 whose Retry-After is an HTTP-date, a body larger than the client reads, a redirect,
// replies with malformed or without logprobs, and hostile replies: one quoting the Authorization header back, one full
// of control bytes. Answers carry logprobs when the request asks for them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace telltale::test {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string authorization;  // the Authorization header's value, empty when absent
  std::string body;
  std::chrono::steady_clock::time_point at;  // when its headers had arrived
};

enum class Fault {
  kNone,               // answer normally
  kTooMany,            // 429 with Retry-After: 0
  kServerError,        // 500
  kUnavailable,        // 503
  kMalformedJson,      // 200 with a body that is not JSON
  kNoChoices,          // 200 with {"choices": []}
  kSlow,               // answer normally after slow_ms
  kDrop,               // close the connection without an answer
  kHold,               // hold the request until release() or stop(), then drop it
  kUnauthorized,       // 401 with an OpenAI-style error object
  kDrip,               // a normal answer sent one byte every drip_ms, headers included (never silent long enough to
                       // look stalled)
  kEchoAuthorization,  // 400 whose error message quotes the request's Authorization header
  kEchoInAnswer,       // a normal answer whose text quotes the request's Authorization header
  kControlBytes,       // 400 with a body that is not JSON and holds terminal escape sequences and other control bytes
  kTooManyDate,        // 429 with Retry-After as an HTTP-date 2 s ahead
  kHugeBody,           // 200 with a 9 MiB body (the client reads 8 MiB at most)
  kRedirect,           // 307 to /v1/elsewhere on this server
  kNoLogprobs,         // a normal answer without logprobs, as a server that ignores the request sends
  kBadLogprobs,        // 200 whose logprobs hold a positive logprob
};

// Answers one well-formed request: returns the assistant's text for `prompt` at most `max_tokens` long.
using Answerer = std::function<std::string(const std::string& prompt, int max_tokens)>;

class OpenAiTestServer {
 public:
  explicit OpenAiTestServer(Answerer answerer);
  ~OpenAiTestServer();

  // The base URL the client is given, e.g. http://127.0.0.1:40123/v1.
  std::string base_url() const;

  // Faults played in order, one per request, before normal answers resume.
  void script(std::vector<Fault> faults);
  void set_slow_ms(int ms) { slow_ms_ = ms; }
  void set_drip_ms(int ms) { drip_ms_ = ms; }
  // Waits until a kHold request has arrived.
  void wait_for_hold();
  void release();

  // Every request received, in order (the body as sent).
  std::vector<HttpRequest> requests() const;
  // The prompts of the requests answered with 200 and an answer.
  std::vector<std::string> answered_prompts() const;
  // The most requests the server was handling at once.
  int max_in_flight() const { return max_in_flight_; }

 private:
  void serve();
  void handle(int fd);

  Answerer answerer_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> slow_ms_{1500};
  std::atomic<int> drip_ms_{100};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Fault> faults_;
  bool holding_ = false;
  bool released_ = false;
  std::vector<HttpRequest> requests_;
  std::vector<std::string> answered_;
  std::thread thread_;
  std::vector<std::thread> connections_;  // one per accepted connection, joined on stop
};

// An Answerer backed by the bundled reference model: watermarked with the key file's key (an empty path: plain),
// sampling seeded by a counter so that answers differ.
Answerer reference_model_answerer(const std::string& key_file);

}  // namespace telltale::test
