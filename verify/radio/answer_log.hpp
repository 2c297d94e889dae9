// The closed-model answer log: one JSON object per line with the prompt sent to the suspect and its answer
// ({"prompt": "...", "response": "..."}, other fields kept by whoever wrote it are ignored). It is what a run keeps
// so that it can be re-scored without querying the suspect again (spec/radioactivity.md, section 5). The log that
// `telltale radioactivity query` writes also holds a header line and failed-attempt lines; they are skipped here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "radio/line_reader.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

// One token of an answer as an OpenAI-compatible API returns it with logprobs (choices[0].logprobs.content[i]): its
// bytes ("bytes", else the UTF-8 of "token"), its natural-log probability, and the most likely alternatives.
struct AnswerTokenChoice {
  std::string bytes;
  double logprob = 0;
};
struct AnswerToken {
  AnswerTokenChoice chosen;
  std::vector<AnswerTokenChoice> top;  // "top_logprobs", as returned (may be empty)
};

struct Answer {
  std::string prompt;
  std::string response;
  std::optional<uint64_t> index;      // the prompt's ordinal in a query log's prompt file, when the line has one
  std::vector<AnswerToken> logprobs;  // the line's "logprobs" (spec/radioactivity.md, section 5); empty when absent
};

// At most this many tokens in an answer's logprobs and alternatives per token (the APIs return at most 20).
inline constexpr size_t kMaxAnswerTokens = size_t{1} << 20;
inline constexpr size_t kMaxTopLogprobs = 64;

// Parses one line (without its newline): an answer, or nullopt for a query log's bookkeeping line (an object with
// "telltale_query_log" or "error"). The message says what is wrong, without the file name.
Result<std::optional<Answer>> parse_answer_line(std::string_view line);

// A first look at a line, for putting a log's answers in order without reading them: whether it is an answer (a JSON
// object that is not a bookkeeping line; a line parse_answer_line would refuse may count as one) and its "index"
// when it has a valid one. Only the top level is built, so it costs a fraction of parse_answer_line.
struct AnswerLineKind {
  bool answer = false;
  std::optional<uint64_t> index;
};
Result<AnswerLineKind> skim_answer_line(std::string_view line);

class AnswerLogReader {
 public:
  static Result<AnswerLogReader> open(const std::string& path);
  // The next answer: true when one was read, false at the end. Blank lines are skipped; errors name file and line.
  Result<bool> next(Answer& out);
  // The next answer line skimmed (skim_answer_line): true when one was read, false at the end.
  Result<bool> skim(std::optional<uint64_t>& index);
  uint64_t line() const { return lines_.line(); }
  // Where the answer last read starts (a byte offset and its line number), and going back (or on) to one.
  uint64_t offset() const { return lines_.offset(); }
  Status seek(uint64_t offset, uint64_t line) { return lines_.seek(offset, line); }

 private:
  explicit AnswerLogReader(LineReader lines) : lines_(std::move(lines)) {}
  LineReader lines_;
};

}  // namespace telltale::radio
