// Query log: O_APPEND writes of whole lines, each followed by fsync; an advisory lock keeps two runs apart. A new log
// is created as a NewFile; an existing one is opened with O_NOFOLLOW.
#include "query/query_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "telltale/new_file.hpp"

namespace telltale::query {
namespace {

constexpr size_t kMaxLineBytes = 64u << 20;

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

Status at_line(const std::string& path, uint64_t line, const std::string& what) {
  return invalid_argument(path + ":" + std::to_string(line) + ": " + what);
}

bool ignored(const std::string& key) {
  for (const char* k : kQueryLogHeaderIgnored)
    if (key == k) return true;
  return false;
}

// The first setting in which two headers differ, described for the user; empty when they agree.
std::string header_difference(const nlohmann::json& found, const nlohmann::json& wanted) {
  for (const auto& [key, value] : wanted.items()) {
    if (ignored(key)) continue;
    const auto it = found.find(key);
    if (it == found.end()) return "it has no '" + key + "'";
    if (*it != value) return "its '" + key + "' is " + dump(*it) + ", this run's is " + dump(value);
  }
  for (const auto& [key, value] : found.items())
    if (!ignored(key) && !wanted.contains(key)) return "it has '" + key + "', which this run does not set";
  return {};
}

Result<uint64_t> index_of(const nlohmann::json& j) {
  const auto it = j.find("index");
  if (it == j.end() || !it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0))
    return invalid_argument("missing or bad 'index'");
  return it->get<uint64_t>();
}

// An existing log, opened for appending without following a symbolic link (ELOOP) and without blocking on a FIFO.
int open_existing(const std::string& path) {
  return ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

}  // namespace

QueryLog::QueryLog(QueryLog&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(other.fd_),
      answered_(std::move(other.answered_)),
      failures_found_(other.failures_found_),
      torn_bytes_(other.torn_bytes_) {
  other.fd_ = -1;
}

QueryLog::~QueryLog() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

Result<QueryLog> QueryLog::open(const std::string& path, const nlohmann::json& header) {
  if (!header.is_object() || !header.contains("telltale_query_log"))
    return invalid_argument("a query log header needs 'telltale_query_log'");
  QueryLog log;
  log.path_ = path;
  log.fd_ = open_existing(path);
  if (log.fd_ < 0 && errno == ENOENT) {
    // A new log is created whole, header line included (0600, never through a symbolic link): a failed first write
    // leaves no empty log behind. Another run may have created it meanwhile; then that one is opened.
    const Status created = write_new_file(path, dump(header) + "\n", FileAccess::kPrivate);
    log.fd_ = open_existing(path);
    if (log.fd_ < 0 && !created.is_ok()) return created;
  }
  if (log.fd_ < 0 && errno == ELOOP) return io_error(path + ": a symbolic link (refusing to follow it)");
  if (log.fd_ < 0) return io_error(path + ": cannot open for appending: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(log.fd_, &st) != 0 || !S_ISREG(st.st_mode)) return io_error(path + ": not a regular file");
  if (::flock(log.fd_, LOCK_EX | LOCK_NB) != 0) return io_error(path + ": in use by another run (locked)");
  TT_RETURN_IF_ERROR(log.load(header));
  return log;
}

Status QueryLog::load(const nlohmann::json& header) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_error(path_ + ": cannot stat: " + std::strerror(errno));
  if (st.st_size == 0) return append_line(header);

  std::ifstream in(path_, std::ios::binary);
  if (!in.is_open()) return io_error(path_ + ": cannot open for reading");
  std::string line;
  uint64_t number = 0;
  uint64_t clean_end = 0;  // offset just past the last complete line
  bool saw_header = false;
  while (true) {
    line.clear();
    bool newline = false;
    for (int c = in.get(); c != std::char_traits<char>::eof(); c = in.get()) {
      if (c == '\n') {
        newline = true;
        break;
      }
      if (line.size() >= kMaxLineBytes) return at_line(path_, number + 1, "line longer than 64 MiB");
      line.push_back(static_cast<char>(c));
    }
    if (!newline) {
      if (line.empty()) break;
      // A torn last line: the writer died inside it. Cut it off; its request is sent again.
      torn_bytes_ = line.size();
      break;
    }
    ++number;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return at_line(path_, number, "not a JSON object (the log is damaged)");
    if (number == 1) {
      if (!j.contains("telltale_query_log")) return at_line(path_, 1, "not a telltale query log (no header line)");
      if (j["telltale_query_log"] != kQueryLogVersion)
        return at_line(path_, 1, "query log version " + dump(j["telltale_query_log"]) + " is not supported");
      if (const std::string d = header_difference(j, header); !d.empty())
        return invalid_argument(path_ + ": made by a run with other settings (" + d +
                                "); resume with the same settings or give a new --log");
      saw_header = true;
    } else if (j.contains("error")) {
      if (!index_of(j)) return at_line(path_, number, "failure line without an 'index'");
      ++failures_found_;
    } else {
      auto index = index_of(j);
      if (!index) return at_line(path_, number, index.status().message());
      const auto p = j.find("prompt");
      if (p == j.end() || !p->is_string() || !j.contains("response") || !j["response"].is_string())
        return at_line(path_, number, "answer line without a string 'prompt' and 'response'");
      if (!answered_.emplace(*index, p->get<std::string>()).second)
        return at_line(path_, number, "index " + std::to_string(*index) + " answered twice (the log is damaged)");
    }
    clean_end += line.size() + 1;
  }
  if (!saw_header) {
    // Only a torn header: nothing was ever answered; start over.
    if (::ftruncate(fd_, 0) != 0) return io_error(path_ + ": cannot truncate: " + std::strerror(errno));
    return append_line(header);
  }
  if (torn_bytes_ > 0 && ::ftruncate(fd_, static_cast<off_t>(clean_end)) != 0)
    return io_error(path_ + ": cannot cut off its torn last line: " + std::strerror(errno));
  return Status::ok();
}

Status QueryLog::append_line(const nlohmann::json& line) {
  const std::string text = dump(line) + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(path_ + ": write failed: " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) return io_error(path_ + ": fsync failed: " + std::strerror(errno));
  return Status::ok();
}

Status QueryLog::append_answer(const nlohmann::json& line) {
  auto index = index_of(line);
  if (!index) return invalid_argument("answer line: " + index.status().message());
  const auto p = line.find("prompt");
  if (p == line.end() || !p->is_string()) return invalid_argument("answer line without a 'prompt'");
  if (answered_.count(*index)) return invalid_argument("index " + std::to_string(*index) + " is already answered");
  TT_RETURN_IF_ERROR(append_line(line));
  answered_.emplace(*index, p->get<std::string>());
  return Status::ok();
}

Status QueryLog::append_failure(const nlohmann::json& line) {
  if (!index_of(line) || !line.contains("error")) return invalid_argument("failure line needs 'index' and 'error'");
  return append_line(line);
}

}  // namespace telltale::query
