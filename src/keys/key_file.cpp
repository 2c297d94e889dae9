// Key files and other private files on disk: created private (0600, as a NewFile); read only from a regular file with
// the right family tag and no group/world access; key files are then parsed by KeyRing::parse.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "telltale/input_file.hpp"
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
  // O_NONBLOCK first so that a FIFO cannot block the open; only a regular file is read.
  auto opened = open_input_file(path, what);
  if (!opened) return key_error(opened.status().message());
  const int fd = opened->get();
  struct stat st {};
  if (::fstat(fd, &st) != 0) return key_error(path + ": cannot stat " + what + ": " + std::strerror(errno));
  auto buf = SecretBytes::allocate(max_bytes + 1);  // one spare byte detects trailing data
  if (!buf) return buf.status();
  size_t got = 0;
  while (got < buf->size()) {
    const ssize_t n = ::read(fd, buf->data() + got, buf->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return key_error(path + ": cannot read " + what + ": " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  // The family tag before the permissions: a file of another kind (a .pub, a text file) is named as such rather
  // than told its permissions are too open. No byte of the file is quoted.
  if (const std::string_view magic_family = key_file_family(what); !magic_family.empty()) {
    const size_t n = std::min(got, magic_family.size());
    if (std::memcmp(buf->data(), magic_family.data(), n) != 0) {
      const std::string_view other = key_file_kind(
          std::string_view(reinterpret_cast<const char*>(buf->data()), std::min(got, kKeyFileSniffBytes)));
      return key_error(path + ": not a telltale " + what + " (bad magic" +
                       (other.empty() ? std::string() : "; this is a telltale " + std::string(other)) + ")");
    }
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return key_error(path + ": " + what + " permissions " + mode +
                     " are too open (group or others have access); run: chmod 600 " + path);
  }
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
