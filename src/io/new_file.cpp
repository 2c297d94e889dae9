// New files and directories: a temporary name beside the target, O_EXCL | O_NOFOLLOW, fsync, then a move that never
// replaces (renameat2 RENAME_NOREPLACE, or link + unlink where the file system lacks it).
#include "telltale/new_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <streambuf>
#include <utility>
#include <vector>

namespace telltale {
namespace {

constexpr size_t kBufferBytes = 64 * 1024;
constexpr int kNameTries = 64;

std::string reason(int err) { return std::strerror(err); }

Status write_failed(const std::string& shown, int err) {
  return io_error("write failed: " + shown + ": " + reason(err));
}

// The directory holding `path` and its last component.
std::pair<std::string, std::string> split_path(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// A fresh name beside `path`: "<dir>/<name>.tmp-<12 hex>".
std::string temporary_name(const std::string& path) {
  unsigned char r[6];
  randombytes_buf(r, sizeof r);
  static const char kHex[] = "0123456789abcdef";
  std::string t = path + ".tmp-";
  for (unsigned char c : r) {
    t += kHex[c >> 4];
    t += kHex[c & 15];
  }
  return t;
}

Status write_all(int fd, const char* data, size_t size, const std::string& shown) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return write_failed(shown, errno);
    if (n == 0) return write_failed(shown, EIO);
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

// Makes the directory entries of a move durable; file systems that cannot fsync a directory are not an error.
void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Moves `from` to `to` unless `to` exists in any form. Returns 0 or an errno value (EEXIST when `to` exists).
int move_no_replace(const std::string& from, const std::string& to, bool directory) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  const int err = errno;
  if (err != EINVAL && err != ENOSYS && err != ENOTSUP) return err;
  if (!directory) {
    // link() never replaces and never follows a symbolic link at `to`.
    if (::link(from.c_str(), to.c_str()) != 0) return errno;
    ::unlink(from.c_str());
    return 0;
  }
  struct stat st {};
  if (::lstat(to.c_str(), &st) == 0) return EEXIST;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

Status already_exists(const std::string& path, bool symlink) {
  if (symlink) return io_error(path + ": already exists as a symbolic link (refusing to write through it)");
  return io_error(path + ": already exists (refusing to overwrite)");
}

Status move_failed(const std::string& path, int err) {
  if (err == EEXIST) return already_exists(path, false);
  return write_failed(path, err);
}

// A stream buffer onto a file descriptor that remembers the first write error instead of throwing.
class FdBuffer : public std::streambuf {
 public:
  explicit FdBuffer(int fd) : fd_(fd), buffer_(kBufferBytes) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (drain() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain(); }

 private:
  int drain() {
    if (error_ != 0) return -1;
    const char* at = pbase();
    while (at < pptr()) {
      const ssize_t n = ::write(fd_, at, static_cast<size_t>(pptr() - at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? errno : EIO;
        return -1;
      }
      at += n;
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return 0;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

}  // namespace

Status check_new_path(const std::string& path) {
  if (path.empty()) return invalid_argument("an output path is empty");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return already_exists(path, S_ISLNK(st.st_mode));
  if (errno != ENOENT) return io_error(path + ": cannot create: " + reason(errno));
  const std::string dir = split_path(path).first;
  if (::stat(dir.c_str(), &st) != 0) return io_error(path + ": cannot create: " + dir + ": " + reason(errno));
  if (!S_ISDIR(st.st_mode)) return io_error(path + ": cannot create: " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK) != 0) return io_error(path + ": cannot create: " + dir + ": " + reason(errno));
  return Status::ok();
}

struct NewFile::State {
  std::string path;
  std::string temp;
  int fd = -1;
  FdBuffer buffer;
  std::ostream out;
  bool done = false;  // committed, or given up (temporary removed)

  State(std::string p, std::string t, int f) : path(std::move(p)), temp(std::move(t)), fd(f), buffer(f), out(&buffer) {}
  ~State() { discard(); }
  // Closes and removes the temporary file unless it was moved into place.
  void discard() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (!done) ::unlink(temp.c_str());
    done = true;
  }
};

NewFile::NewFile(std::unique_ptr<State> state) : state_(std::move(state)) {}
NewFile::NewFile(NewFile&& other) noexcept = default;
NewFile& NewFile::operator=(NewFile&& other) noexcept = default;
NewFile::~NewFile() = default;

Result<NewFile> NewFile::create(const std::string& path, FileAccess access) {
  TT_RETURN_IF_ERROR(check_new_path(path));
  const mode_t mode = access == FileAccess::kPrivate ? 0600 : 0666;
  for (int i = 0; i < kNameTries; ++i) {
    std::string temp = temporary_name(path);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) return io_error(path + ": cannot create: " + reason(errno));
    auto state = std::make_unique<State>(path, std::move(temp), fd);
    // The umask may have cleared bits but never adds any; fchmod makes 0600 explicit whatever the umask.
    if (access == FileAccess::kPrivate && ::fchmod(fd, 0600) != 0) return write_failed(path, errno);
    return NewFile(std::move(state));
  }
  return io_error(path + ": cannot create: no free temporary name beside it");
}

std::ostream& NewFile::stream() { return state_->out; }

void NewFile::write(std::string_view bytes) {
  state_->out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

const std::string& NewFile::path() const { return state_->path; }

Status NewFile::flush() {
  State& s = *state_;
  s.out.flush();
  if (s.buffer.error() != 0) return write_failed(s.path, s.buffer.error());
  if (!s.out) return write_failed(s.path, EIO);
  return Status::ok();
}

Status NewFile::commit() {
  State& s = *state_;
  if (s.done) return Status(StatusCode::kState, s.path + ": already committed or given up");
  Status status = flush();
  if (status.is_ok() && ::fsync(s.fd) != 0) status = write_failed(s.path, errno);
  const int fd = std::exchange(s.fd, -1);
  if (::close(fd) != 0 && status.is_ok()) status = write_failed(s.path, errno);
  if (const int err = status.is_ok() ? move_no_replace(s.temp, s.path, false) : 0; err != 0)
    status = move_failed(s.path, err);
  if (!status.is_ok()) {
    s.discard();  // nothing is left behind, and the path stays free for a rerun
    return status;
  }
  s.done = true;
  sync_directory(split_path(s.path).first);
  return Status::ok();
}

Status write_new_file(const std::string& path, std::string_view bytes, FileAccess access) {
  auto file = NewFile::create(path, access);
  if (!file) return file.status();
  file->write(bytes);
  return file->commit();
}

Result<NewDirectory> NewDirectory::create(const std::string& given) {
  std::string path = given;  // "out/" names the directory "out"
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  TT_RETURN_IF_ERROR(check_new_path(path));
  for (int i = 0; i < kNameTries; ++i) {
    std::string temp = temporary_name(path);
    if (::mkdir(temp.c_str(), 0777) == 0) return NewDirectory(path, std::move(temp));
    if (errno != EEXIST) return io_error(path + ": cannot create directory: " + reason(errno));
  }
  return io_error(path + ": cannot create directory: no free temporary name beside it");
}

NewDirectory::NewDirectory(NewDirectory&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::exchange(other.temp_, std::string())) {}

NewDirectory& NewDirectory::operator=(NewDirectory&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temp_ = std::exchange(other.temp_, std::string());
  }
  return *this;
}

NewDirectory::~NewDirectory() { discard(); }

void NewDirectory::discard() {
  if (temp_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(temp_,
                              ec);  // only what this object wrote; remove_all does not follow links
  temp_.clear();
}

Status NewDirectory::write_file(const std::string& name, std::string_view bytes, FileAccess access) {
  const std::string shown = path_ + "/" + name;
  if (temp_.empty()) return Status(StatusCode::kState, shown + ": the directory is already committed");
  const mode_t mode = access == FileAccess::kPrivate ? 0600 : 0666;
  const int fd = ::open((temp_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return io_error(shown + ": cannot create: " + reason(errno));
  Status s = write_all(fd, bytes.data(), bytes.size(), shown);
  if (s.is_ok() && ::fsync(fd) != 0) s = write_failed(shown, errno);
  if (::close(fd) != 0 && s.is_ok()) s = write_failed(shown, errno);
  return s;
}

Status NewDirectory::commit() {
  if (temp_.empty()) return Status(StatusCode::kState, path_ + ": the directory is already committed");
  sync_directory(temp_);
  if (const int err = move_no_replace(temp_, path_, true); err != 0) return move_failed(path_, err);
  temp_.clear();
  sync_directory(split_path(path_).first);
  return Status::ok();
}

}  // namespace telltale
