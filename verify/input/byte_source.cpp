// The shared byte source: file descriptor, memory and stream inputs, and the chunked buffer the readers share.
#include "input/byte_source.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace telltale::input::detail {
namespace {

class FdInput final : public ByteInput {
 public:
  FdInput(int fd, bool owned) : fd_(fd), owned_(owned) {}
  FdInput(const FdInput&) = delete;
  FdInput& operator=(const FdInput&) = delete;
  ~FdInput() override {
    if (owned_) ::close(fd_);
  }
  Result<size_t> read(char* dst, size_t n) override {
    while (true) {
      const ssize_t got = ::read(fd_, dst, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return io_error(std::strerror(errno));
    }
  }

 private:
  int fd_;
  bool owned_;
};

class MemoryInput final : public ByteInput {
 public:
  explicit MemoryInput(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> read(char* dst, size_t n) override {
    const size_t got = std::min(n, bytes_.size() - pos_);
    std::memcpy(dst, bytes_.data() + pos_, got);
    pos_ += got;
    return got;
  }
  size_t read_size() const override { return std::clamp<size_t>(bytes_.size() - pos_, 1, kReadChunk); }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

class StreamInput final : public ByteInput {
 public:
  explicit StreamInput(std::istream& in) : in_(in) {}
  Result<size_t> read(char* dst, size_t n) override {
    try {
      if (in_.eof()) return size_t{0};
      in_.read(dst, static_cast<std::streamsize>(n));
      if (in_.bad()) return io_error("stream read failed");
      return static_cast<size_t>(in_.gcount());
    } catch (const std::exception& e) {  // a stream with exceptions() enabled
      return io_error(std::string("stream read failed: ") + e.what());
    }
  }

 private:
  std::istream& in_;
};

}  // namespace

std::unique_ptr<ByteInput> fd_input(int fd, bool owned) { return std::make_unique<FdInput>(fd, owned); }
std::unique_ptr<ByteInput> memory_input(std::string bytes) { return std::make_unique<MemoryInput>(std::move(bytes)); }
std::unique_ptr<ByteInput> stream_input(std::istream& in) { return std::make_unique<StreamInput>(in); }

char* Buffer::prepare(size_t n) {
  if (capacity_ - end_ >= n) return data_.get() + end_;
  if (begin_ > 0) {
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ - end_ < n) {
    const size_t new_capacity = std::max(end_ + n, capacity_ + capacity_ / 2);
    auto bigger = std::make_unique_for_overwrite<char[]>(new_capacity);
    if (end_ > 0) std::memcpy(bigger.get(), data_.get(), end_);
    data_ = std::move(bigger);
    capacity_ = new_capacity;
  }
  return data_.get() + end_;
}

void Buffer::reset(size_t keep) {
  begin_ = end_ = 0;
  if (capacity_ > keep) {
    data_.reset();
    capacity_ = 0;
  }
}

void ByteSource::start(std::unique_ptr<ByteInput> in, std::string name, size_t keep) {
  input_ = std::move(in);
  name_ = std::move(name);
  buf_.reset(keep);
  eof_ = false;
  line_ = 1;
  offset_ = 0;
}

void ByteSource::close(size_t keep) {
  input_.reset();
  buf_.reset(keep);
}

Status ByteSource::fill(size_t want) {
  while (buf_.size() < want && !eof_) {
    const size_t ask = input_->read_size();
    char* dst = buf_.prepare(ask);
    auto got = input_->read(dst, ask);
    if (!got) {
      return io_error(name_ + ": read failed at byte " + std::to_string(offset_ + buf_.size()) + ": " +
                      got.status().message());
    }
    if (*got == 0) {
      eof_ = true;
    } else {
      buf_.commit(*got);
      bytes_read_ += *got;
    }
  }
  return Status::ok();
}

void ByteSource::consume(size_t n) {
  line_ += count_newlines(buf_.view().substr(0, n));
  offset_ += n;
  buf_.consume(n);
}

}  // namespace telltale::input::detail
