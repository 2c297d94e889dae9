// The resumable log of a closed-model run: one JSON line per event, appended and flushed to disk as it happens, so
// that a run killed at any moment can be resumed without losing or repeating an answer. Line kinds (spec/
// radioactivity.md, section 5):
//   header   {"telltale_query_log": 1, ...the run's settings...}          the first line, once
//   answer   {"index": i, "prompt": ..., "response": ..., "request": {...}, "reply": {...}, ...}
//   failure  {"index": i, "attempt": k, "error": "...", ...}              a failed attempt, kept for the record
// The answer lines are what `radioactivity score --answers` reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "telltale/status.hpp"

namespace telltale::query {

inline constexpr int kQueryLogVersion = 1;

class QueryLog {
 public:
  // Opens `path` for appending, creating it (mode 0600) with `header` as its first line when it does not exist or
  // is empty. An existing log must carry the same header fields, except those named in `header_ignored` (e.g. the
  // time it was started); its lines are checked, and a torn last line (no newline: the writer was killed in the
  // middle of it) is cut off. The file is locked against a second run for as long as this object lives.
  static Result<QueryLog> open(const std::string& path, const nlohmann::json& header);

  QueryLog(QueryLog&& other) noexcept;
  QueryLog& operator=(QueryLog&&) = delete;
  ~QueryLog();

  // Prompt of every answered index, as found on opening plus what was appended since.
  const std::map<uint64_t, std::string>& answered() const { return answered_; }
  uint64_t failures_found() const { return failures_found_; }
  // Bytes of a torn last line cut off by open() (0 when the log ended cleanly).
  uint64_t torn_bytes_dropped() const { return torn_bytes_; }

  // Appends one answer line; it must have "index" and "prompt", and the index must not be answered yet.
  Status append_answer(const nlohmann::json& line);
  // Appends one failed-attempt line (it must have "index" and "error").
  Status append_failure(const nlohmann::json& line);

 private:
  QueryLog() = default;
  Status append_line(const nlohmann::json& line);
  Status load(const nlohmann::json& header);

  std::string path_;
  int fd_ = -1;
  std::map<uint64_t, std::string> answered_;
  uint64_t failures_found_ = 0;
  uint64_t torn_bytes_ = 0;
};

// The header fields that may differ between the runs that write one log.
inline constexpr const char* kQueryLogHeaderIgnored[] = {"started_at", "prompts_file"};

}  // namespace telltale::query
