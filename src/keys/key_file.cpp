// Key files and other private files on disk: created private (0600, as a NewFile), refused when group/world accessible;
// key files are then parsed by KeyRing::parse.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "telltale/keyring.hpp"
#include "telltale/new_file.hpp"

namespace telltale {

// The kind of file (`what`) is not needed here: the messages of a new file name its path and the reason.
Status write_private_file(const std::string& path, std::span<const uint8_t> bytes, const std::string& /*what*/) {
  return write_new_file(path, {reinterpret_cast<const char*>(bytes.data()), bytes.size()}, FileAccess::kPrivate);
}

Status write_key_file(const KeyRing& keys, const std::string& path) {
  auto bytes = keys.serialize();
  if (!bytes) return bytes.status();
  return write_private_file(path, bytes->bytes(), "key file");
}

Result<SecretBytes> read_private_file(const std::string& path, size_t max_bytes, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return key_error(path + ": cannot open " + what + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return key_error(path + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return key_error(path + ": " + what + " permissions " + mode +
                     " are too open (group or others have access); run: chmod 600 " + path);
  }
  auto buf = SecretBytes::allocate(max_bytes + 1);  // one spare byte detects trailing data
  if (!buf) {
    ::close(fd);
    return buf.status();
  }
  size_t got = 0;
  while (got < buf->size()) {
    const ssize_t n = ::read(fd, buf->data() + got, buf->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      return key_error(path + ": cannot read " + what + ": " + std::strerror(saved));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got == 0) return SecretBytes{};
  auto exact = SecretBytes::allocate(got);
  if (!exact) return exact.status();
  std::memcpy(exact->data(), buf->data(), got);
  return exact;
}

Result<KeyRing> read_key_file(const std::string& path) {
  auto bytes = read_private_file(path, kKeyFileBytes, "key file");
  if (!bytes) return bytes.status();
  auto ring = KeyRing::parse(bytes->bytes());
  if (!ring) return key_error(path + ": " + ring.status().message());
  return ring;
}

}  // namespace telltale
