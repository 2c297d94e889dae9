// NewFile and NewDirectory (telltale/new_file.hpp): complete or absent, never over an existing file, never through a
// symbolic link, private when asked, and no temporary file left behind whatever happens.
#include "telltale/new_file.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "run_command.hpp"
#include "verify_test_support.hpp"

namespace fs = std::filesystem;
using telltale::FileAccess;
using telltale::NewDirectory;
using telltale::NewFile;
using telltale::test::ScratchDir;
using telltale::test::slurp;

namespace {

// The names in `dir`, sorted.
std::vector<std::string> entries(const ScratchDir& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.str())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Lowers this process's file-size limit for the scope (SIGXFSZ ignored, so a write past it fails with EFBIG).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    const rlimit lower{bytes, saved_.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lower) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace

TEST_CASE("a new file appears only when committed, with what was written, and leaves no temporary file", "[io]") {
  ScratchDir dir("new-file");
  const std::string path = dir.path("out.bin");
  {
    auto f = NewFile::create(path, FileAccess::kShared);
    REQUIRE(f.is_ok());
    f->stream() << "hello ";
    f->write("world");
    CHECK_FALSE(fs::exists(path));  // not before commit
    REQUIRE(f->commit().is_ok());
  }
  CHECK(slurp(path) == "hello world");
  CHECK(entries(dir) == std::vector<std::string>{"out.bin"});
  {
    auto f = NewFile::create(dir.path("dropped.bin"), FileAccess::kShared);
    REQUIRE(f.is_ok());
    f->write("never committed");
  }
  CHECK(entries(dir) == std::vector<std::string>{"out.bin"});
}

TEST_CASE("a private new file is mode 0600 whatever the umask; a shared one follows the umask", "[io]") {
  ScratchDir dir("new-file-mode");
  const mode_t old = ::umask(0);
  const auto priv = telltale::write_new_file(dir.path("secret"), "s", FileAccess::kPrivate);
  const auto shared = telltale::write_new_file(dir.path("shared"), "s", FileAccess::kShared);
  ::umask(022);
  const auto masked = telltale::write_new_file(dir.path("masked"), "s", FileAccess::kShared);
  ::umask(old);
  REQUIRE(priv.is_ok());
  REQUIRE(shared.is_ok());
  REQUIRE(masked.is_ok());
  CHECK(mode_of(dir.path("secret")) == 0600);
  CHECK(mode_of(dir.path("shared")) == 0666);
  CHECK(mode_of(dir.path("masked")) == 0644);
}

TEST_CASE("a new file is never written over an existing file or through a symbolic link", "[io]") {
  ScratchDir dir("new-file-refuse");
  const std::string existing = dir.file("existing", "keep me");
  const std::string victim = dir.path("victim");
  const std::string link = dir.path("link");
  REQUIRE(::symlink(victim.c_str(), link.c_str()) == 0);

  const auto over = telltale::write_new_file(existing, "new", FileAccess::kShared);
  REQUIRE_FALSE(over.is_ok());
  CHECK(over.message() == existing + ": already exists (refusing to overwrite)");
  CHECK(slurp(existing) == "keep me");

  const auto through = telltale::write_new_file(link, "new", FileAccess::kShared);
  REQUIRE_FALSE(through.is_ok());
  CHECK(through.message().find("symbolic link") != std::string::npos);
  CHECK_FALSE(fs::exists(victim));

  // The path appears between create() and commit(): the move refuses it rather than replacing it.
  auto late = NewFile::create(dir.path("late"), FileAccess::kShared);
  REQUIRE(late.is_ok());
  late->write("mine");
  dir.file("late", "theirs");
  const auto lost_race = late->commit();
  REQUIRE_FALSE(lost_race.is_ok());
  CHECK(lost_race.message().find("already exists") != std::string::npos);
  CHECK(slurp(dir.path("late")) == "theirs");
  CHECK(entries(dir) == std::vector<std::string>{"existing", "late", "link"});
}

TEST_CASE("a write that fails (file-size limit) is reported with its reason and leaves nothing behind", "[io]") {
  ScratchDir dir("new-file-efbig");
  const std::string path = dir.path("big.bin");
  const std::string bytes(200000,
                          'x');  // more than the stream's buffer, so writes fail before commit too
  {
    FileSizeLimit limit(1000);
    auto f = NewFile::create(path, FileAccess::kShared);
    REQUIRE(f.is_ok());
    f->write(bytes);
    const auto flushed = f->flush();
    REQUIRE_FALSE(flushed.is_ok());
    CHECK(flushed.message() == "write failed: " + path + ": File too large");
    const auto committed = f->commit();
    REQUIRE_FALSE(committed.is_ok());
    CHECK(committed.message() == "write failed: " + path + ": File too large");
  }
  CHECK(entries(dir).empty());
  REQUIRE(telltale::write_new_file(path, bytes, FileAccess::kShared).is_ok());  // a rerun is not blocked
  CHECK(slurp(path) == bytes);
}

TEST_CASE("a new directory appears only when complete and is never put over an existing path", "[io]") {
  ScratchDir dir("new-dir");
  const std::string path = dir.path("bundle");
  {
    auto d = NewDirectory::create(path);
    REQUIRE(d.is_ok());
    REQUIRE(d->write_file("a.txt", "A", FileAccess::kShared).is_ok());
    REQUIRE(d->write_file("b.key", "B", FileAccess::kPrivate).is_ok());
    CHECK_FALSE(fs::exists(path));
    REQUIRE(d->commit().is_ok());
  }
  CHECK(slurp(path + "/a.txt") == "A");
  CHECK(mode_of(path + "/b.key") == 0600);
  CHECK_FALSE(NewDirectory::create(path).is_ok());
  REQUIRE(::symlink(dir.path("victim").c_str(), dir.path("link").c_str()) == 0);
  CHECK_FALSE(NewDirectory::create(dir.path("link")).is_ok());
  {
    FileSizeLimit limit(10);
    auto d = NewDirectory::create(dir.path("failed"));
    REQUIRE(d.is_ok());
    const auto w = d->write_file("record.json", std::string(100, 'r'), FileAccess::kShared);
    REQUIRE_FALSE(w.is_ok());
    CHECK(w.message() == "write failed: " + dir.path("failed") + "/record.json: File too large");
  }
  CHECK(entries(dir) == std::vector<std::string>{"bundle", "link"});
  CHECK_FALSE(fs::exists(dir.path("victim")));
}
