// DocumentSource: the inputs in order (directory_reader.cpp), each read through one byte source (byte_source.cpp)
// by the reader of its format (text_reader.cpp, jsonl_reader.cpp, ids_reader.cpp), so memory stays bounded by the
// options rather than by file sizes.
#include "input/document_source.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <new>
#include <optional>

#include "input/directory_reader.hpp"
#include "input/reader.hpp"
#include "input/utf8.hpp"
#include "telltale/input_file.hpp"

namespace telltale::input {

namespace detail {

namespace {

std::string_view format_name(InputFormat format) {
  switch (format) {
    case InputFormat::kJsonl: return "JSONL";
    case InputFormat::kIds: return "token ids (.ids)";
    case InputFormat::kText:
    case InputFormat::kAuto: break;
  }
  return "text";
}

// The buffer kept between inputs: enough for a document and a read, so only an unusually long line frees it.
size_t kept_buffer(const InputOptions& o) { return 4 * (o.max_document_bytes + kReadChunk); }
}  // namespace

Status ReaderState::record_bad(Status s) {
  if (!options.skip_bad) {
    sticky = s;
    return s;
  }
  ++skipped;
  if (skipped_messages.size() < kMaxSkippedMessages) skipped_messages.push_back(s.message());
  return Status::ok();
}

Result<Outcome> ReaderState::bad_document(Status s) {
  TT_RETURN_IF_ERROR(record_bad(std::move(s)));
  return Outcome::kRetry;
}

Result<Outcome> ReaderState::bad_file(Status s) {
  close_input();
  TT_RETURN_IF_ERROR(record_bad(std::move(s)));
  return Outcome::kRetry;
}

void ReaderState::start_input(std::unique_ptr<ByteInput> input, std::string name, InputFormat input_format) {
  in.start(std::move(input), std::move(name), kept_buffer(options));
  format = input_format;
  at_start = true;
  content_start = 0;
  doc_index = 0;
}

void ReaderState::close_input() {
  in.close(kept_buffer(options));
  pending.clear();
  pending.shrink_to_fit();
  pending_active = false;
}

void ReaderState::emit_text(Document& out, std::string_view text, uint64_t at_line, uint64_t index) const {
  out.source = in.name();
  out.line = at_line;
  out.index = index;
  out.text.assign(text.data(), text.size());
  out.ids.clear();
  out.pretokenized = false;
}

Result<Outcome> next_in_file(ReaderState& s, Document& out) {
  if (s.at_start) {
    s.at_start = false;
    if (Status f = s.in.fill(kKeyFileSniffBytes); !f.is_ok()) return s.bad_file(std::move(f));
    // A key file given as a document is refused whole, before any reader can quote one of its bytes.
    if (const std::string_view kind = key_file_kind(s.in.view()); !kind.empty()) {
      return s.bad_file(key_file_refusal(s.in.name(), kind, format_name(s.format)));
    }
    if (s.in.view().substr(0, 3) == "\xEF\xBB\xBF") s.in.consume(3);
    s.content_start = s.in.offset();
  }
  switch (s.format) {
    case InputFormat::kJsonl: return next_jsonl(s, out);
    case InputFormat::kIds: return next_ids(s, out);
    case InputFormat::kText:
    case InputFormat::kAuto: break;
  }
  return next_text(s, out);
}

}  // namespace detail

namespace {

namespace fs = std::filesystem;

constexpr int64_t kIdLimit = int64_t{1} << 31;

Status validate_options(const InputOptions& o) {
  using detail::kMinDocumentBytes;
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

struct DocumentSource::Impl {
  detail::ReaderState state;
  std::optional<detail::DirectoryWalk> walk;  // none for a single in-memory or stream input
  std::vector<std::string> files_opened;

  Status open_file(const std::string& path) {
    // Named pipes are read too (a shell's <(...)); a FIFO without a writer reads as empty instead of blocking.
    auto fd = open_input_file(path, {}, FileKinds::kStreams);
    if (!fd) return state.record_bad(fd.status());
    state.start_input(detail::fd_input(fd->release(), true), path, detect_format(path, state.options));
    files_opened.push_back(path);
    return Status::ok();
  }

  // The error for inputs that held no document: names the first file and says whether bad ones were skipped.
  Status nothing_read() const {
    std::string where = ": the inputs hold no file";
    if (!files_opened.empty()) {
      where = " from " + files_opened.front();
      if (files_opened.size() > 1) where += " and " + std::to_string(files_opened.size() - 1) + " other file(s)";
    }
    const std::string why =
        state.skipped > 0 ? "all " + std::to_string(state.skipped) + " found were skipped as bad; " : std::string();
    return invalid_argument("no documents read" + where + " (" + why + "--allow-empty accepts that)");
  }

  // Opens the next input; false when there is none left.
  Result<bool> open_next() {
    using Kind = detail::DirectoryWalk::Kind;
    while (!state.in.is_open()) {
      if (!walk) return false;
      detail::DirectoryWalk::Step step = walk->next();
      switch (step.kind) {
        case Kind::kEnd: return false;
        case Kind::kBad: TT_RETURN_IF_ERROR(state.record_bad(std::move(step.error))); break;
        case Kind::kStdin:
          state.start_input(detail::fd_input(STDIN_FILENO, false), "<stdin>", detect_format("-", state.options));
          files_opened.emplace_back("<stdin>");
          break;
        case Kind::kFile: TT_RETURN_IF_ERROR(open_file(step.path)); break;
      }
    }
    return true;
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
    impl->state.options = std::move(options);
    impl->state.selector = std::move(selector).value();
    impl->walk.emplace(std::move(paths));
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
  impl->state.options = std::move(options);
  impl->state.selector = std::move(selector).value();
  impl->files_opened.push_back(name);
  impl->state.start_input(std::move(input), std::move(name), detected);
  return DocumentSource(std::move(impl));
}

Result<DocumentSource> DocumentSource::from_memory(std::string name, std::string bytes, InputFormat format,
                                                   InputOptions options) {
  try {
    return from_input(std::move(name), detail::memory_input(std::move(bytes)), format, std::move(options));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, "out of memory opening an in-memory input");
  }
}

Result<DocumentSource> DocumentSource::from_stream(std::string name, std::istream& in, InputFormat format,
                                                   InputOptions options) {
  try {
    return from_input(std::move(name), detail::stream_input(in), format, std::move(options));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, "out of memory opening a stream input");
  }
}

Result<bool> DocumentSource::next(Document& out) {
  Impl& impl = *impl_;
  detail::ReaderState& s = impl.state;
  if (s.sticky) return *s.sticky;
  try {
    while (true) {
      if (!s.in.is_open()) {
        auto opened = impl.open_next();
        if (!opened) {
          if (!s.sticky) s.sticky = opened.status();
          return opened.status();
        }
        if (!*opened) {
          if (s.documents == 0 && !s.options.allow_empty) {
            s.sticky = impl.nothing_read();
            return *s.sticky;
          }
          return false;
        }
      }
      auto got = detail::next_in_file(s, out);
      if (!got) {
        if (!s.sticky) s.sticky = got.status();
        return got.status();
      }
      if (*got == detail::Outcome::kDocument) {
        ++s.documents;
        return true;
      }
      if (*got == detail::Outcome::kEndOfFile) s.close_input();
    }
  } catch (const std::bad_alloc&) {
    s.sticky = Status(StatusCode::kNoMemory, s.where(s.in.line()) + ": out of memory");
  } catch (const std::exception& e) {
    s.sticky = Status(StatusCode::kInternal, s.where(s.in.line()) + ": " + printable(e.what(), 200));
  }
  return *s.sticky;
}

uint64_t DocumentSource::bytes_read() const { return impl_->state.in.bytes_read(); }
uint64_t DocumentSource::documents_read() const { return impl_->state.documents; }
uint64_t DocumentSource::skipped_count() const { return impl_->state.skipped; }
const std::vector<std::string>& DocumentSource::skipped_messages() const { return impl_->state.skipped_messages; }
const std::vector<std::string>& DocumentSource::files_opened() const { return impl_->files_opened; }

}  // namespace telltale::input
