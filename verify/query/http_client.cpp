// libcurl easy interface: reply body capped while it arrives, Retry-After read from the headers.
#include "query/http_client.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace telltale::query {
namespace {

struct Transfer {
  HttpReply* reply;
  size_t max_bytes;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->reply->body.size() + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  t->reply->body.append(data, n);
  return n;
}

// "Retry-After: 2", "Retry-After: 1.5" or "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT" (RFC 9110, section 10.2.3:
// an HTTP-date is read with curl_getdate, which takes its three forms; a date already past means no wait).
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  static constexpr char kName[] = "retry-after:";
  const size_t name_len = sizeof kName - 1;
  if (n > name_len && strncasecmp(data, kName, name_len) == 0) {
    const char* p = data + name_len;
    const char* end = data + n;
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) --end;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(p, end, v);
    if (ec == std::errc() && v >= 0 && ptr == end) {
      t->reply->retry_after_s = v;
    } else if (end > p && end - p < 64) {
      const std::string date(p, end);
      const time_t when = curl_getdate(date.c_str(), nullptr);
      if (when != -1) {
        const double wait = std::difftime(when, std::time(nullptr));
        t->reply->retry_after_s = wait > 0 ? wait : 0;
      }
    }
  }
  return n;
}

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Only for values create() has bounded: a cast of an unbounded double to long is undefined.
long to_ms(double s) { return static_cast<long>(s * 1000 + 0.5); }

std::string short_number(double x) { return fmt::format("{:g}", x); }

}  // namespace

std::string redact_url(const std::string& url) {
  std::string out = url;
  if (const auto cut = out.find_first_of("?#"); cut != std::string::npos) out.resize(cut);
  const auto scheme = out.find("://");
  const size_t host_at = scheme == std::string::npos ? 0 : scheme + 3;
  const auto path = out.find('/', host_at);
  const auto at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
  if (at != std::string::npos && at >= host_at) out.erase(host_at, at + 1 - host_at);
  return out;
}

Result<HttpClient> HttpClient::create(const HttpSettings& settings) {
  if (!(settings.timeout_s >= kMinTimeoutS && settings.timeout_s <= kMaxTimeoutS))
    return invalid_argument("the request timeout must be in [" + short_number(kMinTimeoutS) + ", " +
                            short_number(kMaxTimeoutS) + "] seconds");
  if (!(settings.connect_timeout_s >= kMinTimeoutS && settings.connect_timeout_s <= kMaxTimeoutS))
    return invalid_argument("the connect timeout must be in [" + short_number(kMinTimeoutS) + ", " +
                            short_number(kMaxTimeoutS) + "] seconds");
  global_init_once();
  HttpClient c;
  c.settings_ = settings;
  c.curl_.reset(curl_easy_init());
  if (!c.curl_) return Status(StatusCode::kNoMemory, "cannot create an HTTP client (curl_easy_init failed)");
  return c;
}

Result<HttpReply> HttpClient::post_json(const std::string& url, const std::string& json_body,
                                        const std::vector<std::string>& headers) {
  CURL* c = curl_.get();
  curl_easy_reset(c);
  HttpReply reply;
  Transfer t{&reply, settings_.max_reply_bytes};
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to_ms(settings_.timeout_s));
  curl_easy_setopt(
      c, CURLOPT_CONNECTTIMEOUT_MS,
      to_ms(settings_.connect_timeout_s < settings_.timeout_s ? settings_.connect_timeout_s : settings_.timeout_s));
  // A second bound, on a stalled transfer, set to the whole timeout: a model may think for minutes before its first
  // byte, so a shorter low-speed window would cut off honest answers.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::ceil(settings_.timeout_s)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in a threaded program
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a redirected POST is refused, not silently re-sent
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  switch (rc) {
    case CURLE_OK: curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status); return reply;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return invalid_argument(redact_url(url) + ": " + curl_easy_strerror(rc));
    default: break;
  }
  reply.status = 0;
  reply.body.clear();
  reply.timed_out = rc == CURLE_OPERATION_TIMEDOUT;  // the whole timeout or the low-speed limit
  reply.transport_error = t.too_large ? "reply larger than " + std::to_string(settings_.max_reply_bytes) + " bytes"
                                      : std::string(curl_easy_strerror(rc));
  return reply;
}

}  // namespace telltale::query
