// The line reading the radioactivity readers share (predictions files, answer logs): lines of bounded length, blank
// lines skipped, every error named by file and line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>

#include "telltale/status.hpp"

namespace telltale::radio {

// Reads one line of at most `max_bytes` bytes (without the newline) into `out`: true when a line was read, false at
// the end of the stream, an error when the line is longer.
Result<bool> read_bounded_line(std::istream& in, size_t max_bytes, std::string& out);

class LineReader {
 public:
  // Opens `path` through input::open_input_stream (a regular file, never a key file): `what` names its role
  // ("answer log"), `expected` what it should hold ("an answer log").
  static Result<LineReader> open(const std::string& path, size_t max_line_bytes, std::string_view what,
                                 std::string_view expected);
  // The next line into `line` (valid until the next call): true when one was read, false at the end. With
  // `skip_blank`, lines of only spaces, tabs and CRs are passed over.
  Result<bool> next(std::string_view& line, bool skip_blank = true);
  // The byte offset in the file of the line last read (its first byte).
  uint64_t offset() const { return offset_; }
  // Goes back (or on) to the line that starts at byte `offset` and is line number `line` of the file, as offset()
  // and line() said when it was read: the next call to next() reads it again.
  Status seek(uint64_t offset, uint64_t line);
  // `s` with "path:line: " before its message (the line last read).
  Status at_line(const Status& s) const;
  const std::string& path() const { return path_; }
  uint64_t line() const { return line_; }

 private:
  LineReader() = default;
  std::string path_;
  size_t max_line_bytes_ = 0;
  std::unique_ptr<std::istream> in_;
  uint64_t line_ = 0;
  uint64_t offset_ = 0;    // of the line last read
  uint64_t consumed_ = 0;  // bytes read from the file so far (lines and their newlines)
  std::string buffer_;
};

}  // namespace telltale::radio
