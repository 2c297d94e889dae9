// The two OpenAI-compatible endpoints a suspect is queried through: /chat/completions (the prompt as one user
// message) and /completions (the prompt as raw text). Builds the request body and reads the answer out of the reply;
// what is sent and what counts as an answer is specified in spec/radioactivity.md, section 5.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "telltale/status.hpp"

namespace telltale::query {

enum class Api { kChat, kCompletions };

struct RequestSettings {
  Api api = Api::kChat;
  std::string model;             // the suspect's model name, sent as "model"
  uint32_t max_tokens = 256;     // answer length limit, in the suspect's tokens
  double temperature = 1.0;      // >= 0
  std::optional<uint64_t> seed;  // sent as "seed" when given (servers treat it as best effort)
  // Alternatives per answer position asked for, in [0, kMaxTopLogprobs] (logprobs.hpp): chat sends "logprobs": true
  // and "top_logprobs": K, completions "logprobs": K.
  uint32_t top_logprobs = 20;
};

// "chat" or "completions" to Api; anything else is an error naming the value.
Result<Api> parse_api(std::string_view name);
const char* api_name(Api api);
// The path appended to the endpoint's base URL: "/chat/completions" or "/completions".
const char* api_path(Api api);

nlohmann::json request_body(const RequestSettings& settings, const std::string& prompt);

struct ParsedReply {
  std::string text;           // the answer: choices[0].message.content (chat) or choices[0].text
  std::string finish_reason;  // empty when the server gave none
  nlohmann::json reply;       // the whole reply, parsed, for the log
  // The answer's log-probabilities in the chat form (read_logprobs, logprobs.hpp); nullopt when the server gave none.
  std::optional<nlohmann::json> logprobs;
};

// Reads a 200 reply's body. Errors say what is wrong in one line ("not JSON", "no choices", "choices[0].message.
// content is null", "choices[0].logprobs.content[3].logprob is positive"); a reply that carries an "error" object
// quotes its message, cut to 200 bytes.
Result<ParsedReply> parse_reply(Api api, std::string_view body);

// The bytes of a server's text that a message or log line quotes at most (the escaped excerpt can be longer).
inline constexpr size_t kExcerptBytes = 200;

// The error message of a non-200 reply's body when it has the OpenAI shape {"error": {"message": ...}}, cut to 200
// bytes; otherwise the first 200 bytes of the body. Control bytes, backslashes and broken UTF-8 become \xNN escapes
// (input::printable), so the result stays on one line and cannot drive a terminal.
std::string reply_error_excerpt(std::string_view body);

}  // namespace telltale::query
