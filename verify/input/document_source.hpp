// Streams the verifier's inputs (text files, directories, JSONL, stdin, pre-tokenized .ids files) as one
// document at a time, in a fixed order and in memory bounded by the options, whatever the size of the corpus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::input {

namespace detail {
class ByteInput;  // where one input's bytes come from (a file descriptor, memory, an istream)
}  // namespace detail

inline constexpr size_t kDefaultMaxDocumentBytes = size_t{1} << 20;  // 1 MiB
// Hard cap on one JSONL record or one .ids line: a line must be held whole to be parsed, so this bounds memory.
inline constexpr size_t kDefaultMaxLineBytes = size_t{64} << 20;  // 64 MiB
inline constexpr size_t kMaxLineBytesLimit = size_t{1} << 30;     // the most max_line_bytes may be raised to
// How many skipped-input messages are kept verbatim (all of them are counted).
inline constexpr size_t kMaxSkippedMessages = 16;

// How a plain text input is cut into documents.
enum class TextSplit {
  // One document per file. A file larger than max_document_bytes is cut into pieces of at most that size, each
  // ending just after the last ASCII whitespace byte that fits (or, in a run with no whitespace, at the last
  // UTF-8 character boundary that fits). Pieces keep the file's bytes exactly, except that a UTF-8 byte order
  // mark at the start is dropped and pieces made only of whitespace are skipped.
  kFile,
  // One document per paragraph: runs of lines separated by one or more blank (empty or whitespace-only) lines.
  // Leading and trailing whitespace of a paragraph is dropped; inner newlines are kept.
  kParagraph,
  // One document per non-blank line, without its line terminator ("\n" or "\r\n") and without leading or
  // trailing whitespace. Blank lines are skipped.
  kLine,
};

// Format of an input. kAuto picks by file name: ".jsonl" and ".json" are JSONL, ".ids" is token ids (see
// spec/ids-format.md), anything else is UTF-8 text; "-" (stdin) is JSONL when a field selector is given, text
// otherwise. The match ignores ASCII case.
enum class InputFormat { kAuto, kText, kJsonl, kIds };

struct InputOptions {
  // JSONL: the selector of the text in each record (see field_selector.hpp), e.g. "messages[-1].content".
  // Empty means every record must itself be a JSON string.
  std::string field;
  // Forces one format for every input (including stdin and files found in directories); kAuto decides per file.
  InputFormat format = InputFormat::kAuto;
  TextSplit split = TextSplit::kFile;
  // Largest document handed out, in bytes, from 4 to kMaxLineBytesLimit. Longer text (a text file, paragraph, line,
  // or JSONL field) is cut into pieces as described for TextSplit::kFile; .ids lines are never cut.
  size_t max_document_bytes = kDefaultMaxDocumentBytes;
  // Longest JSONL record or .ids line accepted, in bytes (terminator excluded), at most kMaxLineBytesLimit.
  size_t max_line_bytes = kDefaultMaxLineBytes;
  // For .ids inputs: when > 0, every id must also be below this vocabulary size.
  int64_t vocab_size = 0;
  // Bad data (see DocumentSource) is counted and skipped instead of ending the stream with an error.
  bool skip_bad = false;
  // Inputs that hold no document at all (empty files, blank lines, an empty directory, everything skipped) end the
  // stream normally instead of with the error "no documents read: ...".
  bool allow_empty = false;
};

struct Document {
  std::string source;        // the path it came from ("<stdin>" for "-"; files found in a directory: dir/sub/file)
  uint64_t line = 0;         // 1-based line where the document starts; 0 when the document is a whole text file
  uint64_t index = 0;        // 0-based position among the documents of its file, counting skipped bad ones
  std::string text;          // UTF-8 text (empty when pretokenized)
  std::vector<int32_t> ids;  // token ids (only when pretokenized)
  bool pretokenized = false;
};

// The format `path` is read as under `options`.
InputFormat detect_format(std::string_view path, const InputOptions& options);

// Parses one .ids line into `out` (cleared first): decimal ids in [0, 2^31) separated by ASCII whitespace.
// With vocab_size > 0, ids must also be < vocab_size. Errors name the token's position, not the file.
Status parse_token_ids(std::string_view line, std::vector<int32_t>& out, int64_t vocab_size = 0);

// Yields the documents of a list of inputs one at a time, in order: paths in the order given; a directory is
// walked recursively, entries of each directory in byte order of their names, skipping names that start with
// '.', symbolic links to directories, and anything that is neither a regular file nor a directory (FIFOs, devices
// and sockets found in a directory are never opened). A path given explicitly may be a named pipe (a shell's
// <(...)); devices, sockets and other special files are refused; no open ever blocks.
//
// Bad data ends the stream with an error whose message names the file and, where there is one, the line:
// invalid UTF-8, a JSONL line that is not JSON or lacks the field (or where it is not a string), an empty
// JSONL text, a malformed or out-of-range token id, a line over max_line_bytes, a missing or unreadable file,
// and a telltale key file (key, signing key or signing public key, recognised by its tag: "<path>: this is a
// telltale key file, not text"; no message ever quotes a byte of one). Other messages quote input only as a short
// escaped excerpt. With skip_bad, the bad document (or the rest of an unreadable file) is skipped instead;
// skipped_count() and skipped_messages() say what was skipped. An empty or whitespace-only text file, like an
// empty JSONL or .ids file, holds no document; when the inputs hold none at all, the stream ends with the error
// "no documents read: ..." unless allow_empty is set.
// Once next() has returned an error, it returns the same error on every later call.
//
// Memory: about max_document_bytes + 256 KiB for text, and up to max_line_bytes (plus the parsed JSON) for a
// JSONL or .ids line, independent of file sizes. Not thread-safe; move-only.
class DocumentSource {
 public:
  // Opens nothing yet: inputs are opened in turn by next(). Fails on invalid options (including a field selector
  // that does not parse) and, unless skip_bad is set, on a path that does not exist, so typos fail fast.
  static Result<DocumentSource> open(std::vector<std::string> paths, InputOptions options);
  // One in-memory input named `name` (used in messages); kAuto picks the format from `name`.
  static Result<DocumentSource> from_memory(std::string name, std::string bytes, InputFormat format,
                                            InputOptions options);
  // One input read from `in`, which must outlive the source.
  static Result<DocumentSource> from_stream(std::string name, std::istream& in, InputFormat format,
                                            InputOptions options);

  DocumentSource(DocumentSource&&) noexcept;
  DocumentSource& operator=(DocumentSource&&) noexcept;
  DocumentSource(const DocumentSource&) = delete;
  DocumentSource& operator=(const DocumentSource&) = delete;
  ~DocumentSource();

  // Fills `out` with the next document and returns true, or returns false when every input is done.
  Result<bool> next(Document& out);

  // Bytes read from all inputs so far (for progress reports).
  uint64_t bytes_read() const;
  // Documents handed out so far.
  uint64_t documents_read() const;
  // Bad documents or files skipped under skip_bad, and the first kMaxSkippedMessages of their messages.
  uint64_t skipped_count() const;
  const std::vector<std::string>& skipped_messages() const;
  // Every input opened so far, in order: file paths (files found in a directory as dir/sub/file), "<stdin>" for
  // stdin, and the name of an in-memory or stream input.
  const std::vector<std::string>& files_opened() const;

 private:
  struct Impl;
  explicit DocumentSource(std::unique_ptr<Impl> impl);
  static Result<DocumentSource> from_input(std::string name, std::unique_ptr<detail::ByteInput> input,
                                           InputFormat format, InputOptions options);
  std::unique_ptr<Impl> impl_;
};

}  // namespace telltale::input
