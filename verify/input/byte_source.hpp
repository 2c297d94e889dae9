// The shared byte source under every format reader: where an input's bytes come from (a file descriptor, memory,
// an istream) and the buffer refilled from it in fixed chunks, with the line and file offset of its first byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>

#include "telltale/status.hpp"

namespace telltale::input {

namespace detail {

inline constexpr size_t kReadChunk = size_t{256} << 10;

inline uint64_t count_newlines(std::string_view s) {
  uint64_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Where one input's bytes come from. The read reports the reason only; the caller adds the file and offset.
class ByteInput {
 public:
  virtual ~ByteInput() = default;
  // Reads up to n bytes into dst; 0 means the end of the input.
  virtual Result<size_t> read(char* dst, size_t n) = 0;
  // How many bytes one read should ask for: a known small input need not get a full chunk's buffer.
  virtual size_t read_size() const { return kReadChunk; }
};

// Reads a file descriptor; closes it when `owned`.
std::unique_ptr<ByteInput> fd_input(int fd, bool owned);
std::unique_ptr<ByteInput> memory_input(std::string bytes);
// Reads `in`, which must outlive the input.
std::unique_ptr<ByteInput> stream_input(std::istream& in);

// The unconsumed bytes of the current input: [begin_, end_) of a block that is compacted before it grows.
class Buffer {
 public:
  std::string_view view() const { return {data_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Room for n more bytes after the data.
  char* prepare(size_t n);
  void commit(size_t n) { end_ += n; }
  // Drops the data, and the block too when one long line made it larger than `keep` bytes.
  void reset(size_t keep);

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// One open input at a time, buffered: the readers look at view(), ask fill() for more and consume() what they used.
class ByteSource {
 public:
  // Starts reading `in`, named `name` in messages; `keep` is the buffer size kept between inputs.
  void start(std::unique_ptr<ByteInput> in, std::string name, size_t keep);
  void close(size_t keep);
  bool is_open() const { return input_ != nullptr; }

  // Reads until at least `want` bytes are buffered or the input ends.
  Status fill(size_t want);
  std::string_view view() const { return buf_.view(); }
  size_t size() const { return buf_.size(); }
  // Drops the first n buffered bytes, counting the lines they end.
  void consume(size_t n);

  bool eof() const { return eof_; }
  const std::string& name() const { return name_; }
  uint64_t line() const { return line_; }              // line number of the first buffered byte
  uint64_t offset() const { return offset_; }          // file offset of the first buffered byte
  uint64_t bytes_read() const { return bytes_read_; }  // over every input so far

 private:
  std::unique_ptr<ByteInput> input_;
  std::string name_;
  Buffer buf_;
  bool eof_ = false;
  uint64_t line_ = 1;
  uint64_t offset_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace detail
}  // namespace telltale::input
