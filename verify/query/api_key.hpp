// The suspect API's key: taken out of the environment into guarded memory (spec/radioactivity.md, section 5), and
// cut out of any server text before that text is logged or printed, since a server may quote it back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "telltale/keyring.hpp"
#include "telltale/status.hpp"

namespace telltale::query {

// The longest API key taken (real ones are under 200 bytes).
inline constexpr size_t kMaxApiKeyBytes = 4096;

// Copies the value of the environment variable `name` into guarded memory, then wipes it where it lay (so that it
// is gone from /proc/PID/environ too, which unsetenv alone does not do) and removes the variable. Refuses a value
// that is empty, too long, or holds a control character (a CR or LF would end the HTTP header early), naming the
// variable but never quoting the value.
Result<SecretBytes> take_api_key_from_env(const std::string& name);

// The text that replaces the key (and "Bearer <key>") in server text.
inline constexpr std::string_view kRedacted = "[redacted]";

// Replaces every "Bearer <key>" and every other occurrence of `key` in server text. An empty key changes nothing.
class KeyRedactor {
 public:
  explicit KeyRedactor(std::string_view key) : key_(key) {}

  // In raw text, the key also in its JSON-escaped form (a server that quotes it inside a JSON string).
  void redact(std::string& text) const;
  // In every string and object member name of a parsed reply.
  void redact(nlohmann::json& value) const;
  // In every token and every token's bytes of an answer's logprobs (read_logprobs' form, logprobs.hpp): a token whose
  // bytes held the key gets the bytes of its redacted form. Returns false when the key is still there spread over
  // several tokens (the answer's tokens or their bytes, joined): the caller must drop them.
  [[nodiscard]] bool redact_logprobs(nlohmann::json& logprobs) const;

 private:
  void replace(std::string& text, std::string_view needle) const;
  std::string_view key_;  // the caller's guarded copy; not owned
};

}  // namespace telltale::query
