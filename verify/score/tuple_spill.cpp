// The spill file: records as three native u64 (hash, document, score bits), written and read with pwrite/pread at
// offsets this process alone knows; a short read (a file truncated under us) is an error naming the directory.
#include "score/tuple_spill.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace telltale::score {

namespace {

constexpr size_t kRecordBytes = sizeof(TupleEntry);
static_assert(kRecordBytes == 24, "a spilled record is three u64");

// One run read back in buffer-sized pieces.
struct RunReader {
  int fd = -1;
  uint64_t offset = 0;
  uint64_t left = 0;  // records not yet read from the file
  std::vector<TupleEntry> buffer;
  size_t at = 0;
  size_t filled = 0;
};

}  // namespace

Result<TupleRuns> TupleRuns::create(const std::string& given) {
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string dir = !given.empty() ? given : tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  std::string path = dir + "/telltale-spill-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return io_error(dir + ": cannot create a spill file for the tuple set: " + std::strerror(errno));
  ::unlink(path.c_str());
  return TupleRuns(fd, dir);
}

TupleRuns::TupleRuns(TupleRuns&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), dir_(std::move(other.dir_)), runs_(std::move(other.runs_)), end_(other.end_) {}

TupleRuns& TupleRuns::operator=(TupleRuns&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    dir_ = std::move(other.dir_);
    runs_ = std::move(other.runs_);
    end_ = other.end_;
  }
  return *this;
}

TupleRuns::~TupleRuns() {
  if (fd_ >= 0) ::close(fd_);
}

Status TupleRuns::append(std::span<const TupleEntry> run) {
  const auto* bytes = reinterpret_cast<const char*>(run.data());
  const uint64_t total = run.size() * kRecordBytes;
  for (uint64_t done = 0; done < total;) {
    const ssize_t n = ::pwrite(fd_, bytes + done, total - done, static_cast<off_t>(end_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return io_error(dir_ + ": cannot write the spilled tuple set: " + std::strerror(n < 0 ? errno : ENOSPC));
    done += static_cast<uint64_t>(n);
  }
  runs_.emplace_back(end_, run.size());
  end_ += total;
  return Status::ok();
}

Status TupleRuns::merge(std::span<const TupleEntry> tail, size_t buffer_records, const EntryVisitor& visit) const {
  const size_t records = std::max<size_t>(buffer_records, 1);
  std::vector<RunReader> readers(runs_.size());
  std::vector<EntrySource> sources;
  sources.reserve(runs_.size() + 1);
  for (size_t r = 0; r < runs_.size(); ++r) {
    RunReader& rd = readers[r];
    rd.fd = fd_;
    rd.offset = runs_[r].first;
    rd.left = runs_[r].second;
    rd.buffer.resize(std::min<uint64_t>(records, rd.left));
    sources.emplace_back([&rd, this](TupleEntry& e) -> Result<bool> {
      if (rd.at == rd.filled) {
        if (rd.left == 0) return false;
        const size_t want = static_cast<size_t>(std::min<uint64_t>(rd.buffer.size(), rd.left));
        auto* into = reinterpret_cast<char*>(rd.buffer.data());
        for (size_t got = 0; got < want * kRecordBytes;) {
          const ssize_t n = ::pread(rd.fd, into + got, want * kRecordBytes - got, static_cast<off_t>(rd.offset + got));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return io_error(dir_ + ": cannot read the spilled tuple set back: " + std::strerror(errno));
          if (n == 0) return io_error(dir_ + ": the spilled tuple set was truncated (a run ends early)");
          got += static_cast<size_t>(n);
        }
        rd.offset += want * kRecordBytes;
        rd.left -= want;
        rd.at = 0;
        rd.filled = want;
      }
      e = rd.buffer[rd.at++];
      return true;
    });
  }
  size_t next = 0;
  sources.emplace_back([&next, tail](TupleEntry& e) -> Result<bool> {
    if (next == tail.size()) return false;
    e = tail[next++];
    return true;
  });
  return merge_entry_sources(sources, visit);
}

}  // namespace telltale::score
