// DocumentSource: one byte buffer refilled in fixed chunks, and a reader per format (text, JSONL, .ids) that cuts
// documents out of it, so memory stays bounded by the options rather than by file sizes.
#include "input/document_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>
#include <limits>
#include <new>
#include <optional>

#include <nlohmann/json.hpp>

#include "input/field_selector.hpp"
#include "input/utf8.hpp"

namespace telltale::input {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadChunk = size_t{256} << 10;
constexpr size_t kMinDocumentBytes = 4;  // room for any one UTF-8 character, so a cut always makes progress
constexpr int64_t kIdLimit = int64_t{1} << 31;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool all_space(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_space(c); });
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

uint64_t count_newlines(std::string_view s) { return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n')); }

std::string hex_byte(unsigned char b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 0xF];
}

// Where a document longer than `max` (data.size() > max) is cut: just after the last whitespace byte in the first
// `max` bytes, else at the last UTF-8 character boundary there, so a valid character is never split.
size_t cut_point(std::string_view data, size_t max) {
  for (size_t i = max; i > 0; --i) {
    if (is_space(data[i - 1])) return i;
  }
  const size_t cut = max - utf8_incomplete_tail(data.substr(0, max));
  return cut > 0 ? cut : max;
}

}  // namespace

// Where one input's bytes come from. The read reports the reason only; the caller adds the file and offset.
class detail::ByteInput {
 public:
  virtual ~ByteInput() = default;
  // Reads up to n bytes into dst; 0 means the end of the input.
  virtual Result<size_t> read(char* dst, size_t n) = 0;
  // How many bytes one read should ask for: a known small input need not get a full chunk's buffer.
  virtual size_t read_size() const { return kReadChunk; }
};

namespace {

using detail::ByteInput;

class FdInput final : public ByteInput {
 public:
  FdInput(int fd, bool owned) : fd_(fd), owned_(owned) {}
  FdInput(const FdInput&) = delete;
  FdInput& operator=(const FdInput&) = delete;
  ~FdInput() override {
    if (owned_) ::close(fd_);
  }
  Result<size_t> read(char* dst, size_t n) override {
    while (true) {
      const ssize_t got = ::read(fd_, dst, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return io_error(std::strerror(errno));
    }
  }

 private:
  int fd_;
  bool owned_;
};

class MemoryInput final : public ByteInput {
 public:
  explicit MemoryInput(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> read(char* dst, size_t n) override {
    const size_t got = std::min(n, bytes_.size() - pos_);
    std::memcpy(dst, bytes_.data() + pos_, got);
    pos_ += got;
    return got;
  }
  size_t read_size() const override { return std::clamp<size_t>(bytes_.size() - pos_, 1, kReadChunk); }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

class StreamInput final : public ByteInput {
 public:
  explicit StreamInput(std::istream& in) : in_(in) {}
  Result<size_t> read(char* dst, size_t n) override {
    try {
      if (in_.eof()) return size_t{0};
      in_.read(dst, static_cast<std::streamsize>(n));
      if (in_.bad()) return io_error("stream read failed");
      return static_cast<size_t>(in_.gcount());
    } catch (const std::exception& e) {  // a stream with exceptions() enabled
      return io_error(std::string("stream read failed: ") + e.what());
    }
  }

 private:
  std::istream& in_;
};

// The unconsumed bytes of the current input: [begin_, end_) of a block that is compacted before it grows.
class Buffer {
 public:
  std::string_view view() const { return {data_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Room for n more bytes after the data.
  char* prepare(size_t n) {
    if (capacity_ - end_ >= n) return data_.get() + end_;
    if (begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ - end_ < n) {
      const size_t new_capacity = std::max(end_ + n, capacity_ + capacity_ / 2);
      auto bigger = std::make_unique_for_overwrite<char[]>(new_capacity);
      if (end_ > 0) std::memcpy(bigger.get(), data_.get(), end_);
      data_ = std::move(bigger);
      capacity_ = new_capacity;
    }
    return data_.get() + end_;
  }
  void commit(size_t n) { end_ += n; }
  // Drops the data, and the block too when one long line made it larger than `keep` bytes.
  void reset(size_t keep) {
    begin_ = end_ = 0;
    if (capacity_ > keep) {
      data_.reset();
      capacity_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

Status validate_options(const InputOptions& o) {
  if (o.max_line_bytes < kMinDocumentBytes || o.max_line_bytes > kMaxLineBytesLimit) {
    return invalid_argument("max_line_bytes " + std::to_string(o.max_line_bytes) + " is out of range [" +
                            std::to_string(kMinDocumentBytes) + ", " + std::to_string(kMaxLineBytesLimit) + "]");
  }
  if (o.max_document_bytes < kMinDocumentBytes || o.max_document_bytes > kMaxLineBytesLimit) {
    return invalid_argument("max_document_bytes " + std::to_string(o.max_document_bytes) + " is out of range [" +
                            std::to_string(kMinDocumentBytes) + ", " + std::to_string(kMaxLineBytesLimit) + "]");
  }
  if (o.vocab_size < 0 || o.vocab_size > kIdLimit) {
    return invalid_argument("vocab_size " + std::to_string(o.vocab_size) + " is out of range [0, 2^31]");
  }
  return Status::ok();
}

}  // namespace

InputFormat detect_format(std::string_view path, const InputOptions& options) {
  if (options.format != InputFormat::kAuto) return options.format;
  if (path == "-") return options.field.empty() ? InputFormat::kText : InputFormat::kJsonl;
  const size_t slash = path.find_last_of('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos) return InputFormat::kText;
  std::string ext(name.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (ext == "jsonl" || ext == "json") return InputFormat::kJsonl;
  if (ext == "ids") return InputFormat::kIds;
  return InputFormat::kText;
}

Status parse_token_ids(std::string_view line, std::vector<int32_t>& out, int64_t vocab_size) {
  out.clear();
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && is_space(line[i])) ++i;
    if (i >= n) break;
    const size_t start = i;
    while (i < n && !is_space(line[i])) ++i;
    const std::string_view token = line.substr(start, i - start);
    // Built only on failure: this loop runs once per token of the corpus.
    const auto position = [&out] { return "token " + std::to_string(out.size() + 1); };
    int64_t value = 0;
    for (char c : token) {
      if (c < '0' || c > '9') {
        return invalid_argument(position() + " '" + printable(token, 32) + "' is not a decimal token id");
      }
      // Saturate instead of overflowing; anything at or past 2^31 is out of range anyway.
      if (value < kIdLimit) value = value * 10 + (c - '0');
    }
    if (value >= kIdLimit) {
      return invalid_argument(position() + " '" + printable(token, 32) + "' is out of range [0, 2^31)");
    }
    if (vocab_size > 0 && value >= vocab_size) {
      return invalid_argument(position() + " " + std::to_string(value) + " is out of range for a vocabulary of " +
                              std::to_string(vocab_size));
    }
    out.push_back(static_cast<int32_t>(value));
  }
  return Status::ok();
}

struct DocumentSource::Impl {
  enum class Outcome { kDocument, kRetry, kEndOfFile };
  struct DirFrame {
    std::string dir;
    std::vector<std::string> names;
    size_t next = 0;
  };

  InputOptions options;
  std::optional<FieldSelector> selector;

  // Inputs not yet opened: the given paths, then the directories being walked (innermost last).
  std::vector<std::string> paths;
  size_t next_path = 0;
  std::vector<DirFrame> dirs;

  // The open input.
  std::unique_ptr<ByteInput> input;
  std::string name;
  InputFormat format = InputFormat::kText;
  Buffer buf;
  bool eof = false;
  bool at_start = true;         // the byte order mark check is still to do
  uint64_t line = 1;            // line number of the first buffered byte
  uint64_t offset = 0;          // file offset of the first buffered byte
  uint64_t content_start = 0;   // file offset after the byte order mark
  uint64_t doc_index = 0;       // documents of this file so far, bad ones included
  // A JSONL text longer than max_document_bytes, handed out piece by piece.
  std::string pending;
  size_t pending_pos = 0;
  uint64_t pending_line = 0;
  bool pending_active = false;

  uint64_t bytes_read = 0;
  uint64_t documents = 0;
  uint64_t skipped = 0;
  std::vector<std::string> skipped_messages;
  std::vector<std::string> files_opened;
  std::optional<Status> sticky;

  // Under skip_bad, counts `s` and returns ok; otherwise makes it the stream's final error and returns it.
  Status record_bad(Status s) {
    if (!options.skip_bad) {
      sticky = s;
      return s;
    }
    ++skipped;
    if (skipped_messages.size() < kMaxSkippedMessages) skipped_messages.push_back(s.message());
    return Status::ok();
  }

  // A bad document: skipped (kRetry) or the final error.
  Result<Outcome> bad_document(Status s) {
    TT_RETURN_IF_ERROR(record_bad(std::move(s)));
    return Outcome::kRetry;
  }

  // A file that cannot be read further: the rest of it is skipped, or this is the final error.
  Result<Outcome> bad_file(Status s) {
    close_input();
    TT_RETURN_IF_ERROR(record_bad(std::move(s)));
    return Outcome::kRetry;
  }

  std::string where(uint64_t at_line) const { return name + ":" + std::to_string(at_line); }

  void start_input(std::unique_ptr<ByteInput> in, std::string input_name, InputFormat input_format) {
    input = std::move(in);
    name = std::move(input_name);
    format = input_format;
    buf.reset(4 * (options.max_document_bytes + kReadChunk));
    eof = false;
    at_start = true;
    line = 1;
    offset = 0;
    content_start = 0;
    doc_index = 0;
  }

  void close_input() {
    input.reset();
    buf.reset(4 * (options.max_document_bytes + kReadChunk));
    pending.clear();
    pending.shrink_to_fit();
    pending_active = false;
  }

  // Reads until at least `want` bytes are buffered or the input ends.
  Status fill(size_t want) {
    while (buf.size() < want && !eof) {
      const size_t ask = input->read_size();
      char* dst = buf.prepare(ask);
      auto got = input->read(dst, ask);
      if (!got) {
        return io_error(name + ": read failed at byte " + std::to_string(offset + buf.size()) + ": " +
                        got.status().message());
      }
      if (*got == 0) {
        eof = true;
      } else {
        buf.commit(*got);
        bytes_read += *got;
      }
    }
    return Status::ok();
  }

  void consume(size_t n) {
    line += count_newlines(buf.view().substr(0, n));
    offset += n;
    buf.consume(n);
  }

  // ---- Opening inputs ---------------------------------------------------------------------------------------

  Status push_dir(const std::string& dir) {
    std::error_code ec;
    DirFrame frame;
    frame.dir = dir;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string entry = it->path().filename().string();
      if (!entry.empty() && entry[0] != '.') frame.names.push_back(std::move(entry));
    }
    if (ec) return record_bad(io_error(dir + ": cannot list directory: " + ec.message()));
    std::sort(frame.names.begin(), frame.names.end());
    dirs.push_back(std::move(frame));
    return Status::ok();
  }

  Status open_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return record_bad(io_error(path + ": cannot open: " + std::strerror(errno)));
    start_input(std::make_unique<FdInput>(fd, true), path, detect_format(path, options));
    files_opened.push_back(path);
    return Status::ok();
  }

  // Opens the next input; false when there is none left.
  Result<bool> open_next() {
    while (!input) {
      if (!dirs.empty()) {
        DirFrame& frame = dirs.back();
        if (frame.next >= frame.names.size()) {
          dirs.pop_back();
          continue;
        }
        const std::string path = (fs::path(frame.dir) / frame.names[frame.next++]).string();
        std::error_code ec;
        fs::file_status st = fs::symlink_status(path, ec);
        if (!ec && fs::is_symlink(st)) {
          st = fs::status(path, ec);
          if (!ec && fs::is_directory(st)) continue;  // not followed: links could make the walk loop
        }
        if (ec) {
          TT_RETURN_IF_ERROR(record_bad(io_error(path + ": cannot open: " + ec.message())));
          continue;
        }
        if (fs::is_directory(st)) {
          TT_RETURN_IF_ERROR(push_dir(path));
        } else if (fs::is_regular_file(st)) {
          TT_RETURN_IF_ERROR(open_file(path));
        }
        continue;
      }
      if (next_path >= paths.size()) return false;
      const std::string& path = paths[next_path++];
      if (path == "-") {
        start_input(std::make_unique<FdInput>(STDIN_FILENO, false), "<stdin>", detect_format(path, options));
        files_opened.emplace_back("<stdin>");
        break;
      }
      std::error_code ec;
      const fs::file_status st = fs::status(path, ec);
      if (ec) {
        TT_RETURN_IF_ERROR(record_bad(io_error(path + ": cannot open: " + ec.message())));
      } else if (fs::is_directory(st)) {
        TT_RETURN_IF_ERROR(push_dir(path));
      } else {
        // Not only regular files: a named pipe or /dev/fd/N from a shell's <(...) is read the same way.
        TT_RETURN_IF_ERROR(open_file(path));
      }
    }
    return true;
  }

  // ---- Readers ----------------------------------------------------------------------------------------------

  Result<Outcome> next_in_file(Document& out) {
    if (at_start) {
      at_start = false;
      if (Status s = fill(3); !s.is_ok()) return bad_file(std::move(s));
      if (buf.view().substr(0, 3) == "\xEF\xBB\xBF") consume(3);
      content_start = offset;
    }
    switch (format) {
      case InputFormat::kJsonl: return next_jsonl(out);
      case InputFormat::kIds: return next_ids(out);
      default: return next_text(out);
    }
  }

  void emit_text(Document& out, std::string_view text, uint64_t at_line, uint64_t index) {
    out.source = name;
    out.line = at_line;
    out.index = index;
    out.text.assign(text.data(), text.size());
    out.ids.clear();
    out.pretokenized = false;
  }

  Result<Outcome> next_text(Document& out) {
    const size_t max = options.max_document_bytes;
    const TextSplit split = options.split;
    if (split != TextSplit::kFile) {
      // Separators (blank lines) and a document's leading whitespace are dropped, a buffer at a time.
      while (true) {
        if (Status s = fill(1); !s.is_ok()) return bad_file(std::move(s));
        const std::string_view data = buf.view();
        if (data.empty()) return end_of_text();
        size_t k = 0;
        while (k < data.size() && is_space(data[k])) ++k;
        consume(k);
        if (k < data.size()) break;
      }
    }
    if (Status s = fill(max + 1); !s.is_ok()) return bad_file(std::move(s));
    const std::string_view data = buf.view();
    if (data.empty()) return end_of_text();

    const bool rest_fits = eof && data.size() <= max;
    bool found = false;
    size_t doc_end = 0;
    size_t next = 0;
    if (split == TextSplit::kLine) {
      const size_t nl = data.substr(0, std::min(data.size(), max + 1)).find('\n');
      if (nl != std::string_view::npos) {
        found = true;
        doc_end = nl;
        next = nl + 1;
      }
    } else if (split == TextSplit::kParagraph) {
      // A paragraph ends at a newline followed by a blank line (or by only whitespace up to the end of input).
      size_t search = 0;
      while (!found) {
        const size_t nl = data.find('\n', search);
        if (nl == std::string_view::npos || nl > max) break;
        size_t q = nl + 1;
        while (q < data.size() && data[q] != '\n' && is_space(data[q])) ++q;
        if ((q < data.size() && data[q] == '\n') || (q == data.size() && eof)) {
          found = true;
          doc_end = nl;
          next = nl + 1;
        } else if (q == data.size()) {
          break;  // undecided; the document is cut below, which ends it at the same place
        }
        search = q;
      }
    }
    if (!found) {
      if (rest_fits) {
        doc_end = next = data.size();
      } else {
        doc_end = next = cut_point(data, max);
      }
    }
    std::string_view doc = data.substr(0, doc_end);
    if (split != TextSplit::kFile) doc = trim_right(doc);
    if (all_space(doc)) {  // only kFile gets here: a whitespace-only piece of a larger file
      consume(next);
      return Outcome::kRetry;
    }
    const bool whole_file = split == TextSplit::kFile && offset == content_start && eof && next == data.size();
    const uint64_t at_line = line;
    const uint64_t index = doc_index++;
    if (const auto bad_at = validate_utf8(doc)) {
      Status s = invalid_argument(where(at_line + count_newlines(doc.substr(0, *bad_at))) + ": invalid UTF-8 (byte " +
                                  hex_byte(static_cast<unsigned char>(doc[*bad_at])) + " at file offset " +
                                  std::to_string(offset + *bad_at) + ")");
      consume(next);
      return bad_document(std::move(s));
    }
    emit_text(out, doc, whole_file ? 0 : at_line, index);
    consume(next);
    return Outcome::kDocument;
  }

  Result<Outcome> end_of_text() {
    if (doc_index == 0) {
      return bad_file(invalid_argument(name + ": empty document (the file is empty or only whitespace)"));
    }
    return Outcome::kEndOfFile;
  }

  enum class LineState { kLine, kTooLong, kEnd };

  // Finds the next line in the buffer, reading as needed: [0, length) of buf.view(), without its '\n';
  // `consumed` is length plus the terminator if there is one.
  Result<LineState> read_line(size_t& length, size_t& consumed) {
    size_t scanned = 0;
    while (true) {
      const std::string_view data = buf.view();
      const void* nl = std::memchr(data.data() + scanned, '\n', data.size() - scanned);
      if (nl != nullptr) {
        length = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
        consumed = length + 1;
        return length > options.max_line_bytes ? LineState::kTooLong : LineState::kLine;
      }
      scanned = data.size();
      if (scanned > options.max_line_bytes) return LineState::kTooLong;
      if (eof) {
        if (scanned == 0) return LineState::kEnd;
        length = consumed = scanned;
        return LineState::kLine;
      }
      TT_RETURN_IF_ERROR(fill(scanned + 1));
    }
  }

  // Reports a line over max_line_bytes, and under skip_bad drops it without buffering it.
  Result<Outcome> too_long_line() {
    Status s = invalid_argument(where(line) + ": line longer than the limit of " +
                                std::to_string(options.max_line_bytes) + " bytes");
    ++doc_index;
    if (!options.skip_bad) return bad_document(std::move(s));
    while (true) {
      const std::string_view data = buf.view();
      const void* nl = std::memchr(data.data(), '\n', data.size());
      if (nl != nullptr) {
        consume(static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1);
        break;
      }
      consume(data.size());
      if (eof) break;
      if (Status f = fill(1); !f.is_ok()) {
        TT_RETURN_IF_ERROR(record_bad(std::move(s)));
        return bad_file(std::move(f));
      }
    }
    return bad_document(std::move(s));
  }

  // Reads one line for the JSONL and .ids readers: kDocument means `text` holds a non-blank line (without
  // "\r\n") that the caller must consume with `consumed`.
  Result<Outcome> next_record_line(std::string_view& text, size_t& consumed) {
    while (true) {
      size_t length = 0;
      auto state = read_line(length, consumed);
      if (!state) return bad_file(state.status());
      if (*state == LineState::kEnd) return Outcome::kEndOfFile;
      if (*state == LineState::kTooLong) return too_long_line();
      text = buf.view().substr(0, length);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (!all_space(text)) return Outcome::kDocument;
      consume(consumed);  // blank lines separate nothing and are not documents
    }
  }

  Result<Outcome> next_jsonl(Document& out) {
    if (pending_active) return next_pending(out);
    std::string_view text;
    size_t consumed = 0;
    auto got = next_record_line(text, consumed);
    if (!got || *got != Outcome::kDocument) return got;
    const uint64_t at_line = line;
    const uint64_t index = doc_index++;
    if (const auto bad_at = validate_utf8(text)) {
      Status s = invalid_argument(where(at_line) + ": invalid UTF-8 (byte " +
                                  hex_byte(static_cast<unsigned char>(text[*bad_at])) + " at column " +
                                  std::to_string(*bad_at + 1) + ")");
      consume(consumed);
      return bad_document(std::move(s));
    }
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
      // nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is the useful part.
      std::string_view what = e.what();
      if (const size_t close = what.find("] "); close != std::string_view::npos) what.remove_prefix(close + 2);
      Status s = invalid_argument(where(at_line) + ": not valid JSON: " + printable(what, 200));
      consume(consumed);
      return bad_document(std::move(s));
    }
    consume(consumed);
    std::string_view selected;
    if (selector) {
      auto s = selector->select(record);
      if (!s) return bad_document(invalid_argument(where(at_line) + ": " + s.status().message()));
      selected = *s;
    } else if (!record.is_string()) {
      return bad_document(invalid_argument(
          where(at_line) + ": the record is " + (record.is_object() ? "an object" : "not a string") +
          "; with no field selector each record must be a JSON string (name the text with e.g. --field text)"));
    } else {
      selected = record.get_ref<const std::string&>();
    }
    const std::string what = selector ? "field '" + printable(selector->text(), 200) + "'" : "the record";
    if (const auto bad_at = validate_utf8(selected)) {  // defence in depth: the JSON parser checks this too
      return bad_document(invalid_argument(where(at_line) + ": " + what + " is not valid UTF-8 (at byte " +
                                           std::to_string(*bad_at) + ")"));
    }
    if (all_space(selected)) {
      return bad_document(invalid_argument(where(at_line) + ": empty document (" + what +
                                           " is empty or only whitespace)"));
    }
    if (selected.size() <= options.max_document_bytes) {
      emit_text(out, selected, at_line, index);
      return Outcome::kDocument;
    }
    pending.assign(selected.data(), selected.size());
    pending_pos = 0;
    pending_line = at_line;
    pending_active = true;
    --doc_index;  // the pieces take their own indexes
    return next_pending(out);
  }

  Result<Outcome> next_pending(Document& out) {
    const std::string_view rest = std::string_view(pending).substr(pending_pos);
    const size_t n = rest.size() <= options.max_document_bytes ? rest.size()
                                                               : cut_point(rest, options.max_document_bytes);
    const std::string_view piece = rest.substr(0, n);
    pending_pos += n;
    if (pending_pos >= pending.size()) pending_active = false;
    if (all_space(piece)) return Outcome::kRetry;
    emit_text(out, piece, pending_line, doc_index++);
    return Outcome::kDocument;
  }

  Result<Outcome> next_ids(Document& out) {
    std::string_view text;
    size_t consumed = 0;
    auto got = next_record_line(text, consumed);
    if (!got || *got != Outcome::kDocument) return got;
    const uint64_t at_line = line;
    const uint64_t index = doc_index++;
    Status s = parse_token_ids(text, out.ids, options.vocab_size);
    consume(consumed);
    if (!s.is_ok()) return bad_document(invalid_argument(where(at_line) + ": " + s.message()));
    out.source = name;
    out.line = at_line;
    out.index = index;
    out.text.clear();
    out.pretokenized = true;
    return Outcome::kDocument;
  }
};

DocumentSource::DocumentSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DocumentSource::DocumentSource(DocumentSource&&) noexcept = default;
DocumentSource& DocumentSource::operator=(DocumentSource&&) noexcept = default;
DocumentSource::~DocumentSource() = default;

namespace {

Result<std::optional<FieldSelector>> parse_field(const std::string& field) {
  if (field.empty()) return std::optional<FieldSelector>();
  auto sel = FieldSelector::parse(field);
  if (!sel) return sel.status();
  return std::optional<FieldSelector>(std::move(sel).value());
}

}  // namespace

Result<DocumentSource> DocumentSource::open(std::vector<std::string> paths, InputOptions options) {
  try {
    TT_RETURN_IF_ERROR(validate_options(options));
    if (paths.empty()) return invalid_argument("no input paths given (use '-' for stdin)");
    if (std::count(paths.begin(), paths.end(), std::string("-")) > 1) {
      return invalid_argument("stdin ('-') is given more than once");
    }
    auto selector = parse_field(options.field);
    if (!selector) return selector.status();
    if (!options.skip_bad) {
      for (const std::string& path : paths) {
        if (path == "-") continue;
        std::error_code ec;
        static_cast<void>(fs::status(path, ec));
        if (ec) return io_error(path + ": cannot open: " + ec.message());
      }
    }
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    impl->selector = std::move(selector).value();
    impl->paths = std::move(paths);
    return DocumentSource(std::move(impl));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, "out of memory opening the inputs");
  }
}

Result<DocumentSource> DocumentSource::from_input(std::string name, std::unique_ptr<detail::ByteInput> input,
                                                  InputFormat format, InputOptions options) {
  TT_RETURN_IF_ERROR(validate_options(options));
  if (format != InputFormat::kAuto) options.format = format;
  auto selector = parse_field(options.field);
  if (!selector) return selector.status();
  auto impl = std::make_unique<Impl>();
  const InputFormat detected = detect_format(name, options);
  impl->options = std::move(options);
  impl->selector = std::move(selector).value();
  impl->files_opened.push_back(name);
  impl->start_input(std::move(input), std::move(name), detected);
  return DocumentSource(std::move(impl));
}

Result<DocumentSource> DocumentSource::from_memory(std::string name, std::string bytes, InputFormat format,
                                                   InputOptions options) {
  try {
    return from_input(std::move(name), std::make_unique<MemoryInput>(std::move(bytes)), format, std::move(options));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, "out of memory opening an in-memory input");
  }
}

Result<DocumentSource> DocumentSource::from_stream(std::string name, std::istream& in, InputFormat format,
                                                   InputOptions options) {
  try {
    return from_input(std::move(name), std::make_unique<StreamInput>(in), format, std::move(options));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, "out of memory opening a stream input");
  }
}

Result<bool> DocumentSource::next(Document& out) {
  Impl& s = *impl_;
  if (s.sticky) return *s.sticky;
  try {
    while (true) {
      if (!s.input) {
        auto opened = s.open_next();
        if (!opened) {
          if (!s.sticky) s.sticky = opened.status();
          return opened.status();
        }
        if (!*opened) return false;
      }
      auto got = s.next_in_file(out);
      if (!got) {
        if (!s.sticky) s.sticky = got.status();
        return got.status();
      }
      if (*got == Impl::Outcome::kDocument) {
        ++s.documents;
        return true;
      }
      if (*got == Impl::Outcome::kEndOfFile) s.close_input();
    }
  } catch (const std::bad_alloc&) {
    s.sticky = Status(StatusCode::kNoMemory, s.name + ":" + std::to_string(s.line) + ": out of memory");
  } catch (const std::exception& e) {
    s.sticky = Status(StatusCode::kInternal, s.name + ":" + std::to_string(s.line) + ": " + printable(e.what(), 200));
  }
  return *s.sticky;
}

uint64_t DocumentSource::bytes_read() const { return impl_->bytes_read; }
uint64_t DocumentSource::documents_read() const { return impl_->documents; }
uint64_t DocumentSource::skipped_count() const { return impl_->skipped; }
const std::vector<std::string>& DocumentSource::skipped_messages() const { return impl_->skipped_messages; }
const std::vector<std::string>& DocumentSource::files_opened() const { return impl_->files_opened; }

}  // namespace telltale::input
