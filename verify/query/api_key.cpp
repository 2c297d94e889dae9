// API key: read once from the environment and wiped there; redaction walks replies iteratively (a hostile server's
// reply may nest deeper than the stack would allow recursion).
#include "query/api_key.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace telltale::query {
namespace {

constexpr std::string_view kBearer = "Bearer ";

// `key` as it reads inside a JSON string: `"` and `\` escaped, and `/` too when `slash` (some servers do).
std::string json_escaped(std::string_view key, bool slash) {
  std::string out;
  out.reserve(2 * key.size());
  for (char c : key) {
    if (c == '"' || c == '\\' || (slash && c == '/')) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

Result<SecretBytes> take_api_key_from_env(const std::string& name) {
  char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0')
    return invalid_argument("--api-key-env: the environment variable " + name + " is not set");
  const size_t size = std::strlen(value);
  Status problem = Status::ok();
  if (size > kMaxApiKeyBytes)
    problem = invalid_argument("--api-key-env: the value of " + name + " is longer than " +
                               std::to_string(kMaxApiKeyBytes) + " bytes; it cannot be an API key");
  for (size_t i = 0; i < size && problem.is_ok(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f)
      problem = invalid_argument("--api-key-env: the value of " + name + " holds a control character at byte " +
                                 std::to_string(i + 1) + " of " + std::to_string(size) +
                                 " (a CR, LF or other byte below 0x20); an API key is printable text");
  }
  Result<SecretBytes> key = problem.is_ok() ? SecretBytes::allocate(size) : Result<SecretBytes>(problem);
  if (key) std::memcpy(key->data(), value, size);
  // Wiped where it lay as well as unset: /proc/PID/environ shows the original bytes, whatever environ now lists.
  sodium_memzero(value, size);
  ::unsetenv(name.c_str());
  return key;
}

void KeyRedactor::replace(std::string& text, std::string_view needle) const {
  size_t at = needle.empty() ? std::string::npos : text.find(needle);
  if (at == std::string::npos) return;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (; at != std::string::npos; at = text.find(needle, pos)) {
    size_t start = at;
    if (at - pos >= kBearer.size() && std::string_view(text).substr(at - kBearer.size(), kBearer.size()) == kBearer)
      start -= kBearer.size();
    out.append(text, pos, start - pos);
    out.append(kRedacted);
    pos = at + needle.size();
  }
  out.append(text, pos);
  sodium_memzero(text.data(), text.size());
  text = std::move(out);
}

void KeyRedactor::redact(std::string& text) const {
  if (key_.empty()) return;
  replace(text, key_);
  for (bool slash : {false, true}) {
    std::string escaped = json_escaped(key_, slash);
    if (escaped != key_) replace(text, escaped);
    sodium_memzero(escaped.data(), escaped.size());
  }
}

void KeyRedactor::redact(nlohmann::json& value) const {
  if (key_.empty()) return;
  std::vector<nlohmann::json*> todo{&value};
  while (!todo.empty()) {
    nlohmann::json* j = todo.back();
    todo.pop_back();
    if (j->is_string()) {
      replace(j->get_ref<std::string&>(), key_);
    } else if (j->is_array()) {
      for (nlohmann::json& e : *j) todo.push_back(&e);
    } else if (j->is_object()) {
      std::vector<std::string> names;  // members whose name holds the key: renamed before their values are queued
      for (auto it = j->begin(); it != j->end(); ++it)
        if (it.key().find(key_) != std::string::npos) names.push_back(it.key());
      for (std::string& name : names) {
        nlohmann::json moved = std::move((*j)[name]);
        j->erase(name);
        replace(name, key_);
        (*j)[name] = std::move(moved);
      }
      for (auto it = j->begin(); it != j->end(); ++it) todo.push_back(&it.value());
    }
  }
}

namespace {

nlohmann::json bytes_json(const std::string& s) {
  nlohmann::json b = nlohmann::json::array();
  for (char c : s) b.push_back(static_cast<unsigned char>(c));
  return b;
}

std::string bytes_text(const nlohmann::json& bytes) {
  std::string s;
  for (const nlohmann::json& b : bytes) s.push_back(static_cast<char>(b.get<int>()));
  return s;
}

}  // namespace

bool KeyRedactor::redact_logprobs(nlohmann::json& logprobs) const {
  if (key_.empty()) return true;
  auto redact_entry = [this](nlohmann::json& e) {
    redact(e["token"].get_ref<std::string&>());
    nlohmann::json& bytes = e["bytes"];
    if (!bytes.is_array()) return;
    std::string raw = bytes_text(bytes);
    const std::string before = raw;
    redact(raw);
    if (raw != before) bytes = bytes_json(raw);
  };
  std::string tokens;
  std::string bytes;
  for (nlohmann::json& e : logprobs) {
    redact_entry(e);
    for (nlohmann::json& alt : e["top_logprobs"]) redact_entry(alt);
    tokens += e["token"].get<std::string>();
    if (e["bytes"].is_array()) bytes += bytes_text(e["bytes"]);
  }
  bool clean = true;
  for (std::string* joined : {&tokens, &bytes}) {
    const std::string before = *joined;
    redact(*joined);
    clean = clean && *joined == before;
    sodium_memzero(joined->data(), joined->size());
  }
  return clean;
}

}  // namespace telltale::query
