// The closed-model answer log: one JSON object per line with the prompt sent to the suspect and its answer
// ({"prompt": "...", "response": "..."}, other fields kept by whoever wrote it are ignored). It is what a run keeps
// so that it can be re-scored without querying the suspect again (spec/radioactivity.md, section 5). The log that
// `telltale radioactivity query` writes also holds a header line and failed-attempt lines; they are skipped here.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "telltale/status.hpp"

namespace telltale::radio {

struct Answer {
  std::string prompt;
  std::string response;
  std::optional<uint64_t> index;  // the prompt's ordinal in a query log's prompt file, when the line has one
};

// Parses one line (without its newline): an answer, or nullopt for a query log's bookkeeping line (an object with
// "telltale_query_log" or "error"). The message says what is wrong, without the file name.
Result<std::optional<Answer>> parse_answer_line(std::string_view line);

class AnswerLogReader {
 public:
  static Result<AnswerLogReader> open(const std::string& path);
  // The next answer: true when one was read, false at the end. Blank lines are skipped; errors name file and line.
  Result<bool> next(Answer& out);

 private:
  AnswerLogReader() = default;
  std::string path_;
  std::unique_ptr<std::istream> in_;
  uint64_t line_ = 0;
  std::string buffer_;
};

// Reads one line of at most `max_bytes` bytes (without the newline) into `out`: true when a line was read, false at
// the end of the stream, an error when the line is longer. Shared by the radioactivity readers.
Result<bool> read_bounded_line(std::istream& in, size_t max_bytes, std::string& out);

}  // namespace telltale::radio
