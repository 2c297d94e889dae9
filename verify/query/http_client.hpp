// A blocking HTTP POST of a JSON body over libcurl, for querying a suspect model's API. One request at a time per
// client (concurrent requests use one client per thread); the connection is reused between requests. Transport failures
// come back as a TransportError in the reply, not as a Status, so that the caller's retry policy can tell them from
// HTTP answers.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::query {

struct HttpReply {
  // 0 when no HTTP answer arrived (see transport_error); otherwise the status code, e.g. 200, 429, 503.
  long status = 0;
  std::string body;
  // Seconds from a Retry-After header, given in seconds or as an HTTP-date (then the seconds from now until it, 0 when
  // it is past); nullopt when absent or unreadable.
  std::optional<double> retry_after_s;
  // Set when the request failed below HTTP: timeout, refused or reset connection, an oversized reply.
  std::string transport_error;
  bool timed_out = false;
};

// The range of a request's timeout, in seconds: under 0.1 s no real server answers, and past an hour a stalled
// server would hold the run for longer than anyone waits on purpose.
inline constexpr double kMinTimeoutS = 0.1;
inline constexpr double kMaxTimeoutS = 3600;

struct HttpSettings {
  // The whole request, connect included, in [kMinTimeoutS, kMaxTimeoutS]: a server that sends its reply a byte at a
  // time is cut off too.
  double timeout_s = 120;
  double connect_timeout_s = 10;  // capped by timeout_s
  size_t max_reply_bytes = 8u << 20;
};

class HttpClient {
 public:
  static Result<HttpClient> create(const HttpSettings& settings);

  // POSTs `json_body` to `url` with Content-Type application/json and the extra `headers` ("Name: value").
  // Returns an error Status only for a call that can never succeed (a malformed URL, an unsupported scheme).
  Result<HttpReply> post_json(const std::string& url, const std::string& json_body,
                              const std::vector<std::string>& headers);

 private:
  struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  HttpSettings settings_;
  std::unique_ptr<CURL, CurlDeleter> curl_;
};

// `url` without user information, query or fragment: what messages and logs may show (those parts can hold
// credentials).
std::string redact_url(const std::string& url);

}  // namespace telltale::query
