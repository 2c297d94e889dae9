// The answer log reader: each line checked as read, so a bad line is named and nothing is scored from it.
#include "radio/answer_log.hpp"

#include <nlohmann/json.hpp>

#include "input/input_stream.hpp"
#include "radio/predictions.hpp"

namespace telltale::radio {

Result<bool> read_bounded_line(std::istream& in, size_t max_bytes, std::string& out) {
  out.clear();
  bool got = false;
  std::streambuf* sb = in.rdbuf();
  try {  // an input stream's buffer reports a read error by throwing (input/input_stream.hpp)
    for (int c = sb->sbumpc(); c != std::char_traits<char>::eof(); c = sb->sbumpc()) {
      got = true;
      if (c == '\n') break;
      if (out.size() >= max_bytes) return invalid_argument("line longer than " + std::to_string(max_bytes) + " bytes");
      out.push_back(static_cast<char>(c));
    }
  } catch (const std::exception& e) {
    return io_error(e.what());
  }
  return got;
}

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
  AnswerLogReader r;
  r.path_ = path;
  auto in = input::open_input_stream(path, "answer log", "an answer log");
  if (!in) return in.status();
  r.in_ = std::move(in).value();
  return r;
}

Result<bool> AnswerLogReader::next(Answer& out) {
  while (true) {
    auto got = read_bounded_line(*in_, kMaxPredictionLineBytes, buffer_);
    if (!got) return Status(got.status().code(), path_ + ":" + std::to_string(line_ + 1) + ": " + got.status().message());
    if (!*got) return false;
    ++line_;
    if (buffer_.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto a = parse_answer_line(buffer_);
    if (!a) return Status(a.status().code(), path_ + ":" + std::to_string(line_) + ": " + a.status().message());
    if (!a->has_value()) continue;
    out = std::move(**a);
    return true;
  }
}

}  // namespace telltale::radio
