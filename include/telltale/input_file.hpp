// Opening the files a user names (key files, tokenizers, registries, prompt and predictions files, documents):
// regular files only, without ever blocking on a FIFO, and recognising key files so that no reader quotes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "telltale/status.hpp"

namespace telltale {

// An open file descriptor, closed when the object goes; -1 when empty.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.release()) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();

  int get() const { return fd_; }
  // Gives up ownership: the caller closes the descriptor.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Which files open_input_file accepts besides regular files.
enum class FileKinds {
  kRegularOnly,  // FIFOs, devices, sockets and directories are refused
  kStreams,      // FIFOs and character devices are read too (a shell's <(...), /dev/stdin); directories are refused
};

// Opens `path` read-only. The open uses O_NONBLOCK, so a FIFO with no writer cannot block it; the file is then
// fstat'ed and anything `kinds` does not accept is refused with "<path>: <what> is a FIFO, not a regular file" (or
// "is a directory", "is a character device", "is a block device", "is a socket"); O_NONBLOCK is then cleared, so
// reads block as usual. A failed open gives "<path>: cannot open <what>: <errno text>". `what` names the file's
// role ("tokenizer model"); when empty, the messages read "<path>: is a FIFO, ..." and "<path>: cannot open: ...".
// Every error has code kIo.
Result<FileDescriptor> open_input_file(const std::string& path, std::string_view what = {},
                                       FileKinds kinds = FileKinds::kRegularOnly);

// The longest prefix key_file_kind looks at: read at least this many bytes of a file before asking.
inline constexpr size_t kKeyFileSniffBytes = 30;

// Which kind of telltale key file the bytes `head` (the start of a file) begin with: "key file" (the watermark key,
// spec/key-file.md), "signing key file" (an Ed25519 evidence signing key) or "signing public key" (its .pub); an
// empty view when none. The match is on the family tag alone ("TTKEYv", "TTSIGv", "telltale-ed25519-public-key"),
// so other versions of these files are recognised too.
std::string_view key_file_kind(std::string_view head);

// The tag of the sealed key files of `kind` ("TTKEYv" for "key file", "TTSIGv" for "signing key file"); empty for
// any other kind. read_private_file checks a file's first bytes against it before its permissions.
std::string_view key_file_family(std::string_view kind);

// "<path>: this is a telltale <kind>, not <expected>": the one refusal every reader gives for a key file, quoting
// none of its bytes.
Status key_file_refusal(const std::string& path, std::string_view kind, std::string_view expected);

}  // namespace telltale
