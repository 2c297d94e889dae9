// Logprobs of a reply: every member type-checked (a server's bytes are untrusted); the legacy completions form is
// converted, its alternatives ordered by decreasing logprob since a JSON object keeps no order.
#include "query/logprobs.hpp"

#include <algorithm>
#include <string>

namespace telltale::query {
namespace {

// A server rounds its log-probabilities: a most likely token may come back as +1e-7; more than this is not a logprob.
constexpr double kLogprobSlack = 1e-6;

using Json = nlohmann::json;

Status bad(const std::string& where, const std::string& what) { return invalid_argument(where + " " + what); }

Result<double> read_logprob(const Json& v, const std::string& where) {
  if (!v.is_number()) return bad(where, std::string("is ") + v.type_name() + ", not a number");
  const double x = v.get<double>();
  if (!(x <= kLogprobSlack)) return bad(where, "is positive, not a log-probability");
  return x;
}

Result<Json> read_bytes(const Json& v, const std::string& where) {
  if (v.is_null()) return Json(nullptr);
  if (!v.is_array()) return bad(where, std::string("is ") + v.type_name() + ", not an array of bytes");
  for (const Json& b : v)
    if (!b.is_number_integer() || (!b.is_number_unsigned() && b.get<int64_t>() < 0) || b.get<int64_t>() > 255)
      return bad(where, "holds a value that is not a byte (0..255)");
  return v;
}

// One {"token", "bytes", "logprob"} object of the chat form.
Result<Json> read_entry(const Json& e, const std::string& where) {
  if (!e.is_object()) return bad(where, "is not an object");
  const auto t = e.find("token");
  if (t == e.end() || !t->is_string()) return bad(where + ".token", "is missing or not a string");
  const auto l = e.find("logprob");
  if (l == e.end()) return bad(where + ".logprob", "is missing");
  auto logprob = read_logprob(*l, where + ".logprob");
  if (!logprob) return logprob.status();
  const auto b = e.find("bytes");
  auto bytes = b == e.end() ? Result<Json>(Json(nullptr)) : read_bytes(*b, where + ".bytes");
  if (!bytes) return bytes.status();
  return Json{{"token", *t}, {"bytes", std::move(bytes).value()}, {"logprob", *logprob}};
}

Result<Json> read_chat(const Json& lp) {
  if (!lp.is_object()) return bad("choices[0].logprobs", "is not an object");
  const auto c = lp.find("content");
  if (c == lp.end() || c->is_null()) return Json(nullptr);
  if (!c->is_array()) return bad("choices[0].logprobs.content", "is not an array");
  Json out = Json::array();
  for (size_t i = 0; i < c->size(); ++i) {
    const std::string where = "choices[0].logprobs.content[" + std::to_string(i) + "]";
    auto entry = read_entry((*c)[i], where);
    if (!entry) return entry.status();
    Json top = Json::array();
    const auto tops = (*c)[i].find("top_logprobs");
    if (tops != (*c)[i].end() && !tops->is_null()) {
      if (!tops->is_array()) return bad(where + ".top_logprobs", "is not an array");
      for (size_t k = 0; k < tops->size(); ++k) {
        auto alt = read_entry((*tops)[k], where + ".top_logprobs[" + std::to_string(k) + "]");
        if (!alt) return alt.status();
        top.push_back(std::move(alt).value());
      }
    }
    (*entry)["top_logprobs"] = std::move(top);
    out.push_back(std::move(entry).value());
  }
  return out;
}

Json utf8_bytes(const std::string& s) {
  Json b = Json::array();
  for (char c : s) b.push_back(static_cast<unsigned char>(c));
  return b;
}

Result<Json> read_legacy(const Json& lp) {
  if (!lp.is_object()) return bad("choices[0].logprobs", "is not an object");
  const auto tokens = lp.find("tokens");
  const auto logprobs = lp.find("token_logprobs");
  if (tokens == lp.end() || tokens->is_null()) return Json(nullptr);
  if (!tokens->is_array()) return bad("choices[0].logprobs.tokens", "is not an array");
  if (logprobs == lp.end() || !logprobs->is_array() || logprobs->size() != tokens->size())
    return bad("choices[0].logprobs.token_logprobs", "is not an array as long as 'tokens'");
  const auto tops = lp.find("top_logprobs");
  const bool has_tops = tops != lp.end() && !tops->is_null();
  if (has_tops && (!tops->is_array() || tops->size() != tokens->size()))
    return bad("choices[0].logprobs.top_logprobs", "is not an array as long as 'tokens'");
  const auto offsets = lp.find("text_offset");
  if (offsets != lp.end() && !offsets->is_null() && (!offsets->is_array() || offsets->size() != tokens->size()))
    return bad("choices[0].logprobs.text_offset", "is not an array as long as 'tokens'");
  Json out = Json::array();
  for (size_t i = 0; i < tokens->size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    const Json& token = (*tokens)[i];
    if (!token.is_string()) return bad("choices[0].logprobs.tokens" + at, "is not a string");
    auto logprob = read_logprob((*logprobs)[i], "choices[0].logprobs.token_logprobs" + at);
    if (!logprob) return logprob.status();
    Json top = Json::array();
    if (has_tops && !(*tops)[i].is_null()) {
      const Json& alts = (*tops)[i];
      const std::string where = "choices[0].logprobs.top_logprobs" + at;
      if (!alts.is_object()) return bad(where, "is not an object of token: logprob");
      size_t k = 0;
      for (const auto& [alt, value] : alts.items()) {
        auto v = read_logprob(value, where + "'s value " + std::to_string(k++));
        if (!v) return v.status();
        top.push_back({{"token", alt}, {"bytes", utf8_bytes(alt)}, {"logprob", *v}});
      }
      std::stable_sort(top.begin(), top.end(), [](const Json& a, const Json& b) {
        return a["logprob"].get<double>() > b["logprob"].get<double>();
      });
    }
    const std::string& text = token.get_ref<const std::string&>();
    out.push_back({{"token", text}, {"bytes", utf8_bytes(text)}, {"logprob", *logprob}, {"top_logprobs", top}});
  }
  return out;
}

}  // namespace

Result<std::optional<Json>> read_logprobs(Api api, const Json& choice) {
  const auto lp = choice.find("logprobs");
  if (lp == choice.end() || lp->is_null()) return std::optional<Json>();
  auto out = api == Api::kChat ? read_chat(*lp) : read_legacy(*lp);
  if (!out) return out.status();
  if (out->is_null()) return std::optional<Json>();
  return std::optional<Json>(std::move(out).value());
}

}  // namespace telltale::query
