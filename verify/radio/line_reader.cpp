// Bounded line reading for the radioactivity readers.
#include "radio/line_reader.hpp"

#include <exception>

#include "input/input_stream.hpp"

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

Result<LineReader> LineReader::open(const std::string& path, size_t max_line_bytes, std::string_view what,
                                    std::string_view expected) {
  LineReader r;
  r.path_ = path;
  r.max_line_bytes_ = max_line_bytes;
  auto in = input::open_input_stream(path, what, expected);
  if (!in) return in.status();
  r.in_ = std::move(in).value();
  return r;
}

Result<bool> LineReader::next(std::string_view& line, bool skip_blank) {
  while (true) {
    offset_ = consumed_;
    auto got = read_bounded_line(*in_, max_line_bytes_, buffer_);
    if (!got) {
      ++line_;  // the line that was too long is the one named
      return at_line(got.status());
    }
    if (!*got) return false;
    consumed_ += buffer_.size() + 1;  // one more than the file holds when its last line has no newline: never read
    ++line_;
    if (skip_blank && buffer_.find_first_not_of(" \t\r") == std::string::npos) continue;
    line = buffer_;
    return true;
  }
}

Status LineReader::seek(uint64_t offset, uint64_t line) {
  if (offset == consumed_ && line == line_ + 1) return Status::ok();  // already there: keep the buffered bytes
  in_->clear();
  if (!in_->seekg(static_cast<std::streamoff>(offset)))
    return io_error(path_ + ": cannot seek to byte " + std::to_string(offset));
  consumed_ = offset;
  line_ = line - 1;
  return Status::ok();
}

Status LineReader::at_line(const Status& s) const {
  return Status(s.code(), path_ + ":" + std::to_string(line_) + ": " + s.message());
}

}  // namespace telltale::radio
