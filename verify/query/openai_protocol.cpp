// OpenAI request bodies and replies: only the fields telltale needs are read, every one of them checked.
#include "query/openai_protocol.hpp"

#include "input/utf8.hpp"
#include "query/logprobs.hpp"

namespace telltale::query {
namespace {

// A server's text, quoted in a message or a log line: its first 200 bytes, with control bytes, backslashes and
// broken UTF-8 escaped as \xNN (a reply must not drive the terminal), then "..." when there was more.
std::string one_line(std::string_view s) { return input::printable(s, kExcerptBytes); }

std::optional<std::string> error_message(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto e = j.find("error");
  if (e == j.end()) return std::nullopt;
  if (e->is_string()) return one_line(e->get_ref<const std::string&>());
  if (e->is_object()) {
    const auto m = e->find("message");
    if (m != e->end() && m->is_string()) return one_line(m->get_ref<const std::string&>());
  }
  return one_line(e->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

Result<Api> parse_api(std::string_view name) {
  if (name == "chat") return Api::kChat;
  if (name == "completions") return Api::kCompletions;
  return invalid_argument("--api must be 'chat' or 'completions', not '" + one_line(name) + "'");
}

const char* api_name(Api api) { return api == Api::kChat ? "chat" : "completions"; }
const char* api_path(Api api) { return api == Api::kChat ? "/chat/completions" : "/completions"; }

nlohmann::json request_body(const RequestSettings& s, const std::string& prompt) {
  nlohmann::json j = {{"model", s.model}, {"max_tokens", s.max_tokens}, {"temperature", s.temperature}};
  if (s.api == Api::kChat) {
    j["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", prompt}}});
    j["logprobs"] = true;
    j["top_logprobs"] = s.top_logprobs;
  } else {
    j["prompt"] = prompt;
    j["logprobs"] = s.top_logprobs;
  }
  if (s.seed) j["seed"] = *s.seed;
  return j;
}

Result<ParsedReply> parse_reply(Api api, std::string_view body) {
  ParsedReply r;
  r.reply = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (r.reply.is_discarded()) return invalid_argument("reply is not JSON: " + one_line(body));
  if (auto e = error_message(r.reply)) return invalid_argument("reply is an error: " + *e);
  if (!r.reply.is_object()) return invalid_argument("reply is not a JSON object");
  const auto choices = r.reply.find("choices");
  if (choices == r.reply.end() || !choices->is_array() || choices->empty())
    return invalid_argument("reply has no 'choices'");
  const nlohmann::json& first = (*choices)[0];
  if (!first.is_object()) return invalid_argument("choices[0] is not an object");
  const nlohmann::json* text = nullptr;
  const char* where = api == Api::kChat ? "choices[0].message.content" : "choices[0].text";
  if (api == Api::kChat) {
    const auto m = first.find("message");
    if (m == first.end() || !m->is_object()) return invalid_argument("reply has no choices[0].message");
    const auto c = m->find("content");
    if (c != m->end()) text = &*c;
  } else {
    const auto t = first.find("text");
    if (t != first.end()) text = &*t;
  }
  if (text == nullptr) return invalid_argument(std::string("reply has no ") + where);
  if (!text->is_string()) return invalid_argument(std::string(where) + " is " + text->type_name() + ", not a string");
  r.text = text->get<std::string>();
  const auto f = first.find("finish_reason");
  if (f != first.end() && f->is_string()) r.finish_reason = f->get<std::string>();
  auto logprobs = read_logprobs(api, first);
  if (!logprobs) return logprobs.status();
  r.logprobs = std::move(logprobs).value();
  return r;
}

std::string reply_error_excerpt(std::string_view body) {
  const auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_discarded())
    if (auto e = error_message(j)) return *e;
  return one_line(body);
}

}  // namespace telltale::query
