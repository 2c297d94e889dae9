// A std::istream over a descriptor from open_input_file, with the key file check done on its first bytes.
#include "input/input_stream.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ios>
#include <streambuf>
#include <vector>

#include "telltale/input_file.hpp"

namespace telltale::input {
namespace {

constexpr size_t kStreamBuffer = size_t{64} << 10;

// Reads a descriptor it owns through one fixed buffer. A read error throws std::ios_base::failure from underflow,
// which the istream functions turn into badbit, so an error is never taken for the end of the file.
class FdStreamBuf final : public std::streambuf {
 public:
  explicit FdStreamBuf(FileDescriptor fd) : fd_(std::move(fd)), buffer_(kStreamBuffer) {}

  // Reads until `n` bytes are buffered or the file ends; the bytes stay to be read through the stream.
  bool prefill(size_t n) {
    size_t have = 0;
    while (have < n) {
      const ssize_t got = ::read(fd_.get(), buffer_.data() + have, buffer_.size() - have);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return false;
      if (got == 0) break;
      have += static_cast<size_t>(got);
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + have);
    return true;
  }
  std::string_view buffered() const { return {gptr(), static_cast<size_t>(egptr() - gptr())}; }

 protected:
  // An absolute seek (the scorer reads a log's answers in prompt order): the buffer is emptied, the next read fills
  // it from `pos`.
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    if (!(which & std::ios_base::in) || ::lseek(fd_.get(), static_cast<off_t>(pos), SEEK_SET) < 0)
      return pos_type(off_type(-1));
    setg(buffer_.data(), buffer_.data(), buffer_.data());
    return pos;
  }

  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    while (true) {
      const ssize_t got = ::read(fd_.get(), buffer_.data(), buffer_.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw std::ios_base::failure(std::string("read failed: ") + std::strerror(errno));
      if (got == 0) return traits_type::eof();
      setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
      return traits_type::to_int_type(*gptr());
    }
  }

 private:
  FileDescriptor fd_;
  std::vector<char> buffer_;
};

class FdStream final : public std::istream {
 public:
  explicit FdStream(FileDescriptor fd) : std::istream(nullptr), buf_(std::move(fd)) { rdbuf(&buf_); }
  FdStreamBuf& buf() { return buf_; }

 private:
  FdStreamBuf buf_;
};

}  // namespace

Result<std::unique_ptr<std::istream>> open_input_stream(const std::string& path, std::string_view what,
                                                        std::string_view expected) {
  auto fd = open_input_file(path, what);
  if (!fd) return fd.status();
  auto stream = std::make_unique<FdStream>(std::move(fd).value());
  if (!stream->buf().prefill(kKeyFileSniffBytes)) {
    return io_error(path + ": cannot read " + std::string(what) + ": " + std::strerror(errno));
  }
  if (const auto kind = key_file_kind(stream->buf().buffered()); !kind.empty() && !expected.empty()) {
    return key_file_refusal(path, kind, expected);
  }
  return std::unique_ptr<std::istream>(std::move(stream));
}

Result<std::string> read_input_file(const std::string& path, std::string_view what, std::string_view expected) {
  auto in = open_input_stream(path, what, expected);
  if (!in) return in.status();
  std::string bytes;
  char chunk[16 * 1024];
  try {
    while (true) {
      (*in)->read(chunk, sizeof chunk);
      bytes.append(chunk, static_cast<size_t>((*in)->gcount()));
      if (!**in) break;
    }
  } catch (const std::exception& e) {
    return io_error(path + ": cannot read " + std::string(what) + ": " + e.what());
  }
  if ((*in)->bad()) return io_error(path + ": cannot read " + std::string(what) + ": read failed");
  return bytes;
}

}  // namespace telltale::input
