// Every file and directory telltale creates: written under a temporary name beside the final path and moved into place
// only when complete and on disk, never over an existing file and never through a symbolic link. It lives in the core
// library because the core writes key files and cannot depend on the verifier, which uses it for everything else.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "telltale/status.hpp"

namespace telltale {

// Who may read a new file: kPrivate is mode 0600 whatever the umask (keys, signing keys); kShared is 0666 less the
// umask, like any file a program creates.
enum class FileAccess { kPrivate, kShared };

// Refuses a path that exists in any form (a dangling symbolic link too) or whose directory is missing: the check a
// command makes before its work, so that it does not fail only at the end. The path is checked again, atomically, when
// a NewFile or NewDirectory is committed.
Status check_new_path(const std::string& path);

// A file being created at `path`. Bytes go to a temporary file in the same directory (created with O_EXCL |
// O_NOFOLLOW); commit() flushes, fsyncs and moves it into place without replacing anything at `path`. A NewFile
// destroyed uncommitted, or whose commit fails, removes its temporary file: a failed write (a full disk, a file-size
// limit) leaves nothing behind. Errors read "write failed: <path>: <reason>" and name `path`, never the temporary.
class NewFile {
 public:
  static Result<NewFile> create(const std::string& path, FileAccess access);
  NewFile(NewFile&& other) noexcept;
  NewFile& operator=(NewFile&& other) noexcept;
  ~NewFile();

  // A buffered stream onto the temporary file; a failed write sets its badbit and is reported by commit().
  std::ostream& stream();
  void write(std::string_view bytes);
  // Writes the buffer out to the temporary file: an error if a write was lost so far.
  Status flush();
  // Flushes, fsyncs, moves the file into place and fsyncs its directory. Called once.
  Status commit();
  const std::string& path() const;

 private:
  struct State;
  explicit NewFile(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Creates `path` holding `bytes`, as NewFile does.
Status write_new_file(const std::string& path, std::string_view bytes, FileAccess access);

// A directory being created at `path`, filled under a temporary name beside it (mode 0777 less the umask) and renamed
// into place by commit() only when complete; destroyed uncommitted, it removes the temporary directory and what was
// written into it.
class NewDirectory {
 public:
  static Result<NewDirectory> create(const std::string& path);
  NewDirectory(NewDirectory&& other) noexcept;
  NewDirectory& operator=(NewDirectory&& other) noexcept;
  ~NewDirectory();

  // Writes a new file `name` (a plain file name) inside the directory.
  Status write_file(const std::string& name, std::string_view bytes, FileAccess access);
  Status commit();

 private:
  NewDirectory(std::string path, std::string temp) : path_(std::move(path)), temp_(std::move(temp)) {}
  void discard();
  std::string path_;
  std::string temp_;  // empty once committed or moved from
};

}  // namespace telltale
