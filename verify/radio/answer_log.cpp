// The answer log reader: each line checked as read, so a bad line is named and nothing is scored from it.
#include "radio/answer_log.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "radio/predictions.hpp"

namespace telltale::radio {
namespace {

using nlohmann::json;

// {"token": str, "bytes": [int...] (optional), "logprob": float}; the message names what is wrong.
Status read_choice(const json& j, AnswerTokenChoice& out) {
  if (!j.is_object()) return invalid_argument("'logprobs' entries must be objects");
  const auto token = j.find("token");
  if (token == j.end() || !token->is_string()) return invalid_argument("a 'logprobs' entry has no string 'token'");
  const auto bytes = j.find("bytes");
  if (bytes != j.end() && !bytes->is_null()) {
    if (!bytes->is_array()) return invalid_argument("a 'logprobs' entry's 'bytes' must be an array of bytes");
    out.bytes.clear();
    for (const json& b : *bytes) {
      if (!b.is_number_unsigned() || b.get<uint64_t>() > 255)
        return invalid_argument("a 'logprobs' entry's 'bytes' must hold integers in [0, 255]");
      out.bytes += static_cast<char>(b.get<uint64_t>());
    }
  } else {
    out.bytes = token->get<std::string>();
  }
  const auto lp = j.find("logprob");
  if (lp == j.end() || !lp->is_number()) return invalid_argument("a 'logprobs' entry has no number 'logprob'");
  out.logprob = lp->get<double>();
  if (!std::isfinite(out.logprob) || out.logprob > 0)
    return invalid_argument("a 'logprobs' entry's 'logprob' must be finite and <= 0");
  return Status::ok();
}

Status read_logprobs(const json& j, std::vector<AnswerToken>& out) {
  if (j.is_null()) return Status::ok();
  if (!j.is_array() || j.size() > kMaxAnswerTokens)
    return invalid_argument("'logprobs' must be an array of at most " + std::to_string(kMaxAnswerTokens) + " tokens");
  out.resize(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    TT_RETURN_IF_ERROR(read_choice(j[i], out[i].chosen));
    const auto top = j[i].find("top_logprobs");
    if (top == j[i].end() || top->is_null()) continue;
    if (!top->is_array() || top->size() > kMaxTopLogprobs)
      return invalid_argument("'top_logprobs' must be an array of at most " + std::to_string(kMaxTopLogprobs) +
                              " entries");
    out[i].top.resize(top->size());
    for (size_t k = 0; k < top->size(); ++k) TT_RETURN_IF_ERROR(read_choice((*top)[k], out[i].top[k]));
  }
  return Status::ok();
}

}  // namespace

Result<std::optional<Answer>> parse_answer_line(std::string_view line) {
  const auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return invalid_argument("not valid JSON");
  if (!j.is_object()) return invalid_argument("an answer must be a JSON object with 'prompt' and 'response'");
  if (j.contains("telltale_query_log") || j.contains("error")) return std::optional<Answer>();
  Answer a;
  for (const char* field : {"prompt", "response"}) {
    const auto it = j.find(field);
    if (it == j.end()) return invalid_argument(std::string("missing '") + field + "'");
    if (!it->is_string()) return invalid_argument(std::string("'") + field + "' must be a string");
    (field[0] == 'p' ? a.prompt : a.response) = it->get<std::string>();
  }
  if (const auto i = j.find("index"); i != j.end()) {
    if (!i->is_number_unsigned()) return invalid_argument("'index' must be a non-negative integer");
    a.index = i->get<uint64_t>();
  }
  if (const auto lp = j.find("logprobs"); lp != j.end()) TT_RETURN_IF_ERROR(read_logprobs(*lp, a.logprobs));
  return std::optional<Answer>(std::move(a));
}

Result<AnswerLineKind> skim_answer_line(std::string_view line) {
  // Members below the top level are dropped as they are parsed (the callback's false), so no answer's logprobs,
  // request or reply is built.
  const json::parser_callback_t top_level = [](int depth, json::parse_event_t event, json&) {
    return depth == 0 ||
           (depth == 1 && event != json::parse_event_t::object_start && event != json::parse_event_t::array_start);
  };
  const auto j = json::parse(line.begin(), line.end(), top_level, false);
  if (j.is_discarded()) return invalid_argument("not valid JSON");
  AnswerLineKind kind;
  kind.answer = !j.is_object() || !(j.contains("telltale_query_log") || j.contains("error"));
  if (!j.is_object()) return kind;
  if (const auto i = j.find("index"); i != j.end() && i->is_number_unsigned()) kind.index = i->get<uint64_t>();
  return kind;
}

Result<AnswerLogReader> AnswerLogReader::open(const std::string& path) {
  auto lines = LineReader::open(path, kMaxPredictionLineBytes, "answer log", "an answer log");
  if (!lines) return lines.status();
  return AnswerLogReader(std::move(lines).value());
}

Result<bool> AnswerLogReader::next(Answer& out) {
  std::string_view line;
  while (true) {
    auto got = lines_.next(line);
    if (!got) return got.status();
    if (!*got) return false;
    auto a = parse_answer_line(line);
    if (!a) return lines_.at_line(a.status());
    if (!a->has_value()) continue;
    out = std::move(**a);
    return true;
  }
}

Result<bool> AnswerLogReader::skim(std::optional<uint64_t>& index) {
  std::string_view line;
  while (true) {
    auto got = lines_.next(line);
    if (!got) return got.status();
    if (!*got) return false;
    auto kind = skim_answer_line(line);
    if (!kind) return lines_.at_line(kind.status());
    if (!kind->answer) continue;
    index = kind->index;
    return true;
  }
}

}  // namespace telltale::radio
