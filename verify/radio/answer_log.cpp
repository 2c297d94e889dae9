// The answer log reader: each line checked as read, so a bad line is named and nothing is scored from it.
#include "radio/answer_log.hpp"

#include <nlohmann/json.hpp>

#include "radio/predictions.hpp"

namespace telltale::radio {

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
  return std::optional<Answer>(std::move(a));
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

}  // namespace telltale::radio
