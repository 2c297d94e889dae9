// The loopback server: a thread per connection (a slow or held answer must not block the client's next attempt),
// HTTP/1.1 with Content-Length bodies and "Connection: close" answers.
#include "openai_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "generator.hpp"
#include "input/tokenizer.hpp"
#include "llama2c_model.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/scheme.hpp"
#include "test_paths.hpp"

namespace telltale::test {
namespace {

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client went away: nothing to do
    done += static_cast<size_t>(n);
  }
}

std::string response(int status, const std::string& reason, const std::string& body,
                     const std::string& extra_headers = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

void respond(int fd, int status, const std::string& reason, const std::string& body,
             const std::string& extra_headers = {}) {
  write_all(fd, response(status, reason, body, extra_headers));
}

// A reply that would clear the screen, set the terminal's title, ring its bell and turn it red if printed raw.
const std::string kControlBody("\x1b[2J\x1b]0;owned\x07 bad\rrequest\x1b[31m\x9b\x00 from ", 39);

// Sends `text` one byte every `ms` milliseconds until it is all sent, the client goes away, or `stop` is set.
void drip(int fd, const std::string& text, int ms, const std::atomic<bool>& stop) {
  for (char c : text) {
    if (stop || ::send(fd, &c, 1, MSG_NOSIGNAL) != 1) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads one request; nullopt when the client closed or sent something this server does not read.
std::optional<HttpRequest> read_request(int fd) {
  std::string data;
  char buf[4096];
  size_t header_end = std::string::npos;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    data.append(buf, static_cast<size_t>(n));
  }
  HttpRequest r;
  const std::string head = data.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const size_t sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) return std::nullopt;
  r.method = request_line.substr(0, sp1);
  r.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t content_length = 0;
  while (line_end != std::string::npos && line_end < head.size()) {
    const size_t next = head.find("\r\n", line_end + 2);
    const std::string line = head.substr(line_end + 2, (next == std::string::npos ? head.size() : next) - line_end - 2);
    line_end = next;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "content-length") content_length = std::stoul(value);
    if (name == "authorization") r.authorization = value;
  }
  r.at = std::chrono::steady_clock::now();
  r.body = data.substr(header_end + 4);
  while (r.body.size() < content_length) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    r.body.append(buf, static_cast<size_t>(n));
  }
  return r;
}

std::string http_date_from_now(int seconds) {
  const std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// Logprobs for `text` as the API would shape them, with made-up numbers: the text cut before each space (so that the
// tokens joined give the text back), each token's logprob -0.25 * (its ordinal mod 4), and `top` alternatives
// (the token itself first, then "<token>~k" less likely). Chat: the content array; completions: the legacy form.
nlohmann::json made_up_logprobs(const std::string& text, int top, bool chat) {
  std::vector<std::string> tokens;
  for (size_t i = 0; i < text.size();) {
    const size_t next = text.find(' ', i + 1);
    const size_t end = next == std::string::npos ? text.size() : next;
    tokens.push_back(text.substr(i, end - i));
    i = end;
  }
  auto bytes = [](const std::string& s) {
    nlohmann::json b = nlohmann::json::array();
    for (char c : s) b.push_back(static_cast<unsigned char>(c));
    return b;
  };
  nlohmann::json content = nlohmann::json::array();
  nlohmann::json legacy = {{"tokens", nlohmann::json::array()},
                           {"token_logprobs", nlohmann::json::array()},
                           {"top_logprobs", nlohmann::json::array()},
                           {"text_offset", nlohmann::json::array()}};
  size_t offset = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const double lp = -0.25 * static_cast<double>(i % 4);
    nlohmann::json alts = nlohmann::json::array();
    nlohmann::json legacy_alts = nlohmann::json::object();
    for (int k = 0; k < top; ++k) {
      const std::string alt = k == 0 ? tokens[i] : tokens[i] + "~" + std::to_string(k);
      const double alt_lp = lp - 1.0 * k;
      alts.push_back({{"token", alt}, {"bytes", bytes(alt)}, {"logprob", alt_lp}});
      legacy_alts[alt] = alt_lp;
    }
    content.push_back({{"token", tokens[i]}, {"bytes", bytes(tokens[i])}, {"logprob", lp}, {"top_logprobs", alts}});
    legacy["tokens"].push_back(tokens[i]);
    legacy["token_logprobs"].push_back(lp);
    legacy["top_logprobs"].push_back(legacy_alts);
    legacy["text_offset"].push_back(offset);
    offset += tokens[i].size();
  }
  return chat ? nlohmann::json{{"content", content}} : legacy;
}

}  // namespace

OpenAiTestServer::OpenAiTestServer(Answerer answerer) : answerer_(std::move(answerer)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("test server: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("test server: bind/listen on loopback failed");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

OpenAiTestServer::~OpenAiTestServer() {
  stopping_ = true;
  release();
  thread_.join();
  ::close(listen_fd_);
}

std::string OpenAiTestServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

void OpenAiTestServer::script(std::vector<Fault> faults) {
  std::lock_guard lock(mu_);
  faults_.assign(faults.begin(), faults.end());
}

void OpenAiTestServer::wait_for_hold() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return holding_; });
}

void OpenAiTestServer::release() {
  std::lock_guard lock(mu_);
  released_ = true;
  cv_.notify_all();
}

std::vector<HttpRequest> OpenAiTestServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::vector<std::string> OpenAiTestServer::answered_prompts() const {
  std::lock_guard lock(mu_);
  return answered_;
}

void OpenAiTestServer::serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections_.emplace_back([this, fd] {
      handle(fd);
      ::close(fd);
    });
  }
  for (std::thread& t : connections_) t.join();
}

void OpenAiTestServer::handle(int fd) {
  auto req = read_request(fd);
  if (!req) return;
  // A request is in flight from when it is read until its reply starts to be written (or the connection is closed
  // unanswered). Counting until the reply is written out would race: the client can read its answer and send its next
  // request before this thread, its reply written, runs again to uncount it, and the server would count one more
  // request in flight than the client has.
  struct InFlight {
    std::atomic<int>& n;
    bool counted = true;
    explicit InFlight(std::atomic<int>& count, std::atomic<int>& most) : n(count) {
      const int now = ++n;
      for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {}
    }
    void end() {
      if (counted) --n;
      counted = false;
    }
    ~InFlight() { end(); }
  } in_flight(in_flight_, max_in_flight_);
  const auto respond = [&in_flight, fd](int status, const std::string& reason, const std::string& body,
                                        const std::string& extra_headers = {}) {
    in_flight.end();
    ::telltale::test::respond(fd, status, reason, body, extra_headers);
  };
  Fault fault = Fault::kNone;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(*req);
    if (!faults_.empty()) {
      fault = faults_.front();
      faults_.pop_front();
    }
  }
  switch (fault) {
    case Fault::kTooMany:
      return respond(429, "Too Many Requests", R"({"error":{"message":"rate limited","type":"rate_limit"}})",
                     "Retry-After: 0\r\n");
    case Fault::kServerError: return respond(500, "Internal Server Error", R"({"error":{"message":"boom"}})");
    case Fault::kUnavailable: return respond(503, "Service Unavailable", "overloaded");
    case Fault::kMalformedJson: return respond(200, "OK", R"({"choices": [{"message": {"content": "cut off)");
    case Fault::kNoChoices: return respond(200, "OK", R"({"choices": []})");
    case Fault::kDrop: return;
    case Fault::kUnauthorized:
      return respond(401, "Unauthorized", R"({"error":{"message":"Incorrect API key provided","type":"auth"}})");
    case Fault::kEchoAuthorization:
      return respond(
          400, "Bad Request",
          nlohmann::json({{"error", {{"message", "malformed header 'Authorization: " + req->authorization + "'"}}}})
              .dump());
    case Fault::kControlBytes: return respond(400, "Bad Request", kControlBody + req->authorization);
    case Fault::kHold: {
      std::unique_lock lock(mu_);
      holding_ = true;
      released_ = false;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_ || stopping_.load(); });
      holding_ = false;
      return;
    }
    case Fault::kTooManyDate:
      return respond(429, "Too Many Requests", R"({"error":{"message":"rate limited by date"}})",
                     "Retry-After: " + http_date_from_now(2) + "\r\n");
    case Fault::kHugeBody: return respond(200, "OK", std::string(9u << 20, ' ') + "{}");
    case Fault::kRedirect:
      return respond(307, "Temporary Redirect", R"({"error":{"message":"moved"}})", "Location: /v1/elsewhere\r\n");
    case Fault::kSlow: std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms_.load())); break;
    case Fault::kNone:
    case Fault::kDrip:
    case Fault::kNoLogprobs:
    case Fault::kBadLogprobs:
    case Fault::kEchoInAnswer: break;
  }
  const auto j = nlohmann::json::parse(req->body, nullptr, false);
  const bool chat = req->path == "/v1/chat/completions";
  if (req->method != "POST" || (!chat && req->path != "/v1/completions"))
    return respond(404, "Not Found", R"({"error":{"message":"no such route"}})");
  if (j.is_discarded() || !j.is_object())
    return respond(400, "Bad Request", R"({"error":{"message":"body is not JSON"}})");
  std::string prompt;
  if (chat && j.contains("messages") && j["messages"].is_array() && !j["messages"].empty())
    prompt = j["messages"].back().value("content", "");
  else if (!chat)
    prompt = j.value("prompt", "");
  const int max_tokens = j.value("max_tokens", 16);
  std::string text = answerer_(prompt, max_tokens);
  if (fault == Fault::kEchoInAnswer) text += " (you are " + req->authorization + ")";
  nlohmann::json choice = {{"index", 0}, {"finish_reason", "length"}};
  if (chat)
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  else
    choice["text"] = text;
  const int top = chat ? j.value("top_logprobs", 0) : j.value("logprobs", 0);
  const bool asked = chat ? j.value("logprobs", false) : j.contains("logprobs");
  if (asked && fault != Fault::kNoLogprobs) choice["logprobs"] = made_up_logprobs(text, top, chat);
  if (fault == Fault::kBadLogprobs) choice["logprobs"] = {{"content", {{{"token", "a"}, {"logprob", 0.5}}}}};
  const nlohmann::json reply = {{"id", "cmpl-test"},
                                {"object", chat ? "chat.completion" : "text_completion"},
                                {"model", j.value("model", "")},
                                {"choices", nlohmann::json::array({choice})}};
  if (fault == Fault::kDrip) {
    in_flight.end();
    return drip(fd, response(200, "OK", reply.dump()), drip_ms_.load(), stopping_);
  }
  if (fault != Fault::kBadLogprobs) {
    std::lock_guard lock(mu_);
    answered_.push_back(prompt);
  }
  respond(200, "OK", reply.dump());
}

Answerer reference_model_answerer(const std::string& key_file) {
  struct State {
    std::optional<input::Tokenizer> tok;
    std::optional<refmodel::Llama2cModel> model;
    std::optional<Hook> hook;
    uint64_t counter = 0;
    std::mutex mu;
  };
  auto st = std::make_shared<State>();
  const std::string dir = kModelDir;
  auto tok = input::Tokenizer::load(dir + "/tok512.model");
  auto model = refmodel::Llama2cModel::load(dir + "/stories260K.bin");
  if (!tok || !model) throw std::runtime_error("test server: cannot load the reference model");
  st->tok.emplace(std::move(tok).value());
  st->model.emplace(std::move(model).value());
  if (!key_file.empty()) {
    auto keys = read_key_file(key_file);
    if (!keys) throw std::runtime_error("test server: " + keys.status().message());
    auto params = default_params(SchemeKind::kKgw, static_cast<uint32_t>(st->tok->vocab_size()));
    auto hook = Hook::create(*keys, params);
    if (!hook) throw std::runtime_error("test server: " + hook.status().message());
    st->hook.emplace(std::move(hook).value());
  }
  return [st](const std::string& prompt, int max_tokens) {
    std::lock_guard lock(st->mu);
    std::vector<int32_t> ids;
    if (!st->tok->encode(prompt, ids).is_ok()) return std::string();
    refmodel::Generator generator(*st->model);
    refmodel::GenerationOptions gen;
    gen.max_new_tokens = max_tokens;
    gen.top_p = 1.0f;
    gen.seed = ++st->counter;
    std::optional<SeqState> seq;
    if (st->hook) {
      auto s = st->hook->new_sequence(0, gen.seed);
      if (!s) return std::string();
      seq.emplace(std::move(s).value());
    }
    auto out = generator.run(ids, st->hook ? &*st->hook : nullptr, seq ? &*seq : nullptr, gen);
    if (!out) return std::string();
    auto text = st->tok->decode(out->tokens);
    return text ? *text : std::string();
  };
}

}  // namespace telltale::test
