// Opening user-named files without blocking on FIFOs, and recognising key files by their tags. In the core rather
// than verify/ because the key file reader needs it and the core never includes verify/; the verifier uses it too.
#include "telltale/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace telltale {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

const char* kind_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

}  // namespace

Result<FileDescriptor> open_input_file(const std::string& path, std::string_view what, FileKinds kinds) {
  const std::string role = what.empty() ? std::string() : " " + std::string(what);
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return io_error(path + ": cannot open" + role + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error(path + ": cannot stat" + role + ": " + std::strerror(errno));
  const bool stream = S_ISFIFO(st.st_mode);
  if (!S_ISREG(st.st_mode) && !(kinds == FileKinds::kStreams && stream)) {
    return io_error(path + ":" + role + " is " + kind_name(st.st_mode) + ", not a regular file");
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return io_error(path + ": cannot clear O_NONBLOCK: " + std::strerror(errno));
  }
  return fd;
}

namespace {

struct Tag {
  std::string_view prefix;
  std::string_view kind;
};
// The first two are the sealed layout's families (spec/key-file.md section 2); the last is the .pub text line.
constexpr Tag kTags[] = {
    {"TTKEYv", "key file"},
    {"TTSIGv", "signing key file"},
    {"telltale-ed25519-public-key", "signing public key"},
};
static_assert(sizeof("telltale-ed25519-public-key-v1") - 1 == kKeyFileSniffBytes);

}  // namespace

std::string_view key_file_kind(std::string_view head) {
  for (const Tag& t : kTags) {
    if (head.substr(0, t.prefix.size()) == t.prefix) return t.kind;
  }
  return {};
}

std::string_view key_file_family(std::string_view kind) {
  for (size_t i = 0; i < 2; ++i) {
    if (kTags[i].kind == kind) return kTags[i].prefix;
  }
  return {};
}

Status key_file_refusal(const std::string& path, std::string_view kind, std::string_view expected) {
  return invalid_argument(path + ": this is a telltale " + std::string(kind) + ", not " + std::string(expected));
}

}  // namespace telltale
