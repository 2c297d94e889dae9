// GgufVocabulary: llama.cpp's tokenizer (llama_tokenize, llama_detokenize) over a vocabulary loaded vocab-only from a
// GGUF file, with llama.cpp's log kept away from users and its last error turned into a one-line message.
#include "input/gguf_tokenizer.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>

#include "input/cached_tokenizer.hpp"
#include "input/utf8.hpp"

#if defined(TELLTALE_HAVE_LLAMA)
#include <llama.h>
#endif

namespace telltale::input {

#if defined(TELLTALE_HAVE_LLAMA)
namespace {

// llama.cpp logs through one process-wide callback. Ours drops everything, except that a thread loading a vocabulary
// collects the error lines it causes (llama.cpp logs on the calling thread) so that they become the message.
thread_local std::string* t_error_lines = nullptr;

void log_to_capture(ggml_log_level level, const char* text, void*) {
  if (t_error_lines == nullptr || level != GGML_LOG_LEVEL_ERROR || text == nullptr) return;
  if (t_error_lines->size() < 4096) *t_error_lines += text;
}

void silence_llama_log() {
  static std::once_flag once;
  std::call_once(once, [] { llama_log_set(log_to_capture, nullptr); });
}

// The line of llama.cpp's error log that says why: the loader's "error loading model: ..." when there is one.
std::string llama_reason(const std::string& lines) {
  static constexpr std::string_view kMarker = "error loading model: ";
  std::string_view reason = lines;
  if (const size_t at = reason.find(kMarker); at != std::string_view::npos) reason.remove_prefix(at + kMarker.size());
  if (const size_t end = reason.find('\n'); end != std::string_view::npos) reason = reason.substr(0, end);
  if (reason.empty()) return "llama.cpp could not read it";
  return printable(reason, 200);
}

struct ModelDeleter {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
using ModelPtr = std::unique_ptr<llama_model, ModelDeleter>;

// The bytes of one id as llama.cpp streams it (llama_token_to_piece; special tokens render as nothing), with the
// leading space dropped when `lstrip`; nullopt when llama.cpp cannot render it.
std::optional<std::string> token_piece(const llama_vocab* vocab, llama_token id, bool lstrip) {
  char buf[256];
  int32_t n = llama_token_to_piece(vocab, id, buf, sizeof buf, lstrip ? 1 : 0, /*special=*/false);
  if (n >= 0) return std::string(buf, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(-n), '\0');
  n = llama_token_to_piece(vocab, id, big.data(), static_cast<int32_t>(big.size()), lstrip ? 1 : 0, false);
  if (n < 0) return std::nullopt;
  big.resize(static_cast<size_t>(n));
  return big;
}

std::string meta_string(const llama_model* model, const char* key) {
  char buf[256];
  const int32_t n = llama_model_meta_val_str(model, key, buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

// The byte-level BPE pre-tokenizers whose regular expressions were checked to end a match at an ASCII letter
// followed by a space, and to start the next match at that space, whatever precedes it (llama-vocab.cpp): a run of
// letters is one alternative (\p{L}+, optionally led by one non-letter), and no alternative reads behind.
bool pre_tokenizer_splits_before_space(const std::string& pre) {
  return pre == "llama-bpe" || pre == "qwen2" || pre == "qwen35" || pre == "gpt-2";
}

class GgufVocabulary final : public TokenizerModel {
 public:
  GgufVocabulary(ModelPtr model, std::string path) : model_(std::move(model)), path_(std::move(path)) {
    vocab_ = llama_model_get_vocab(model_.get());
    space_prefix_ = adds_space_prefix();
    decide_piece_split();
  }

  Status encode(std::string_view text, std::vector<int32_t>& out) const override {
    out.clear();
    if (text.empty()) return Status::ok();
    if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2))
      return invalid_argument(path_ + ": text of " + std::to_string(text.size()) + " bytes is too long to tokenize");
    try {
      // Every id covers at least one byte, and a dummy prefix adds at most one: text.size() + 1 is enough.
      out.resize(text.size() + 1);
      int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                                 static_cast<int32_t>(out.size()), /*add_special=*/false, /*parse_special=*/false);
      if (n < 0 && n != std::numeric_limits<int32_t>::min()) {
        out.resize(static_cast<size_t>(-n));
        n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                           static_cast<int32_t>(out.size()), false, false);
      }
      if (n < 0) return invalid_argument(path_ + ": llama.cpp could not tokenize a text");
      out.resize(static_cast<size_t>(n));
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kNoMemory, path_ + ": out of memory encoding text");
    } catch (const std::exception& e) {
      return invalid_argument(path_ + ": cannot encode text: " + printable(e.what(), 200));
    }
    return Status::ok();
  }

  // The pieces' bytes concatenated, as a server streams them (llama_token_to_piece), not llama_detokenize: that one
  // also applies the vocabulary's clean_spaces rule ("and 'x" -> "and'x"), which would change the text and the ids.
  // Like llama_detokenize, the space a prefixed vocabulary put before the first word is dropped.
  Result<std::string> decode(std::span<const int32_t> ids) const override {
    try {
      std::string text;
      for (size_t i = 0; i < ids.size(); ++i) {
        const auto piece = token_piece(vocab_, ids[i], i == 0 && space_prefix_);
        if (!piece) return invalid_argument(path_ + ": llama.cpp could not decode id " + std::to_string(ids[i]));
        text += *piece;
      }
      return text;
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kNoMemory, path_ + ": out of memory decoding ids");
    } catch (const std::exception& e) {
      return invalid_argument(path_ + ": cannot decode ids: " + printable(e.what(), 200));
    }
  }

  int32_t vocab_size() const override { return llama_vocab_n_tokens(vocab_); }
  int32_t bos_id() const override { return llama_vocab_bos(vocab_); }
  int32_t eos_id() const override { return llama_vocab_eos(vocab_); }
  TokenizerKind kind() const override { return TokenizerKind::kGguf; }
  PieceSplit piece_split() const override { return split_; }
  std::string piece_split_reason() const override { return split_reason_; }

 private:
  // Where the exact cache may cut (tokenizer_model.hpp). Byte-level BPE: at a pre-tokenizer checked to split there.
  // llama.cpp's SPM: it merges over the whole text, so only when no piece could span the cut ("c▁d") and every text
  // gets the same space prefix. Either way a token matched in plain text (user-defined, since control tokens are not
  // parsed) must not hold a space or swallow the spaces after it (rstrip), or it could reach across the cut.
  void decide_piece_split() {
    const auto type = llama_vocab_type(vocab_);
    const std::string pre = meta_string(model_.get(), "tokenizer.ggml.pre");
    if (type == LLAMA_VOCAB_TYPE_BPE && !pre_tokenizer_splits_before_space(pre)) {
      return refuse_split("byte-level BPE with pre-tokenizer '" + pre + "', not checked for a split before a space");
    }
    if (type == LLAMA_VOCAB_TYPE_SPM && !space_prefix_) {
      return refuse_split("SPM vocabulary without a space prefix on every text");
    }
    if (type != LLAMA_VOCAB_TYPE_BPE && type != LLAMA_VOCAB_TYPE_SPM) {
      return refuse_split("vocabulary type " + std::to_string(static_cast<int>(type)) + " (neither BPE nor SPM)");
    }
    for (int32_t t = 0; t < vocab_size(); ++t) {
      const auto attr = llama_vocab_get_attr(vocab_, t);
      const std::string_view text = llama_vocab_get_text(vocab_, t);
      const bool plain_special = (attr & LLAMA_TOKEN_ATTR_USER_DEFINED) != 0;
      if (plain_special && (text.find(' ') != std::string_view::npos || (attr & LLAMA_TOKEN_ATTR_RSTRIP) != 0)) {
        return refuse_split("token " + std::to_string(t) + " is matched in plain text and can reach across a space");
      }
      if (type == LLAMA_VOCAB_TYPE_SPM) {
        if (joins_word_to_space(text))
          return refuse_split("token " + std::to_string(t) + " joins a word to the space after it");
        if (plain_special) return refuse_split("SPM vocabulary with user-defined tokens (each restarts the prefix)");
      }
    }
    split_ = type == LLAMA_VOCAB_TYPE_BPE ? PieceSplit::kSpaceBeforeWord : PieceSplit::kSpaceBeforeWordDropped;
  }

  // Whether llama.cpp puts a space before every text it tokenizes (SPM's add_space_prefix, true unless the file says
  // otherwise): seen from the first token of "x", which then starts with the escaped space.
  bool adds_space_prefix() const {
    if (llama_vocab_type(vocab_) != LLAMA_VOCAB_TYPE_SPM) return false;
    llama_token ids[8];
    const int32_t n = llama_tokenize(vocab_, "x", 1, ids, 8, false, false);
    return n > 0 && std::string_view(llama_vocab_get_text(vocab_, ids[0])).starts_with("\xE2\x96\x81");
  }

  void refuse_split(std::string reason) {
    split_ = PieceSplit::kNone;
    split_reason_ = std::move(reason);
  }

  ModelPtr model_;
  const llama_vocab* vocab_ = nullptr;
  std::string path_;
  bool space_prefix_ = false;
  PieceSplit split_ = PieceSplit::kNone;
  std::string split_reason_;
};

}  // namespace

bool gguf_tokenizers_supported() { return true; }

namespace {

// llama.cpp's vocabulary from the file open on `fd` (read from its start through a duplicate descriptor, so the
// caller's stays open). No mmap: the weights are never read, and a FILE-backed load would need an aligned data
// section to map. On failure `errors` holds llama.cpp's error log.
ModelPtr load_model(int fd, std::string& errors) {
  const int dup_fd = ::dup(fd);
  if (dup_fd < 0) return nullptr;
  std::unique_ptr<FILE, int (*)(FILE*)> file(::fdopen(dup_fd, "rb"), &std::fclose);
  if (!file) {
    ::close(dup_fd);
    return nullptr;
  }
  if (std::fseek(file.get(), 0, SEEK_SET) != 0) return nullptr;
  llama_model_params params = llama_model_default_params();
  params.vocab_only = true;
  params.load_mode = LLAMA_LOAD_MODE_NONE;
  t_error_lines = &errors;
  ModelPtr model(llama_model_load_from_file_ptr(file.get(), params));
  t_error_lines = nullptr;
  return model;
}

// llama.cpp stops the process (GGML_ASSERT, GGML_ABORT) on some malformed vocabularies, e.g. one naming a token
// twice. So the file is first loaded, and exercised (every id decoded, a text of every ASCII byte and a few scripts
// encoded), in a child process: one that dies by a signal means a vocabulary llama.cpp cannot read safely.
Status check_in_child(int fd, const std::string& path) {
  const pid_t pid = ::fork();
  if (pid < 0) return io_error(path + ": cannot check the GGUF vocabulary: fork failed: " + std::strerror(errno));
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);  // llama.cpp's assertion message and backtrace go nowhere
    if (null_fd >= 0) {
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
    }
    ::setenv("GGML_NO_BACKTRACE", "1", 1);
    std::string errors;
    ModelPtr model = load_model(fd, errors);
    if (!model) ::_exit(1);
    const llama_vocab* vocab = llama_model_get_vocab(model.get());
    if (vocab == nullptr || llama_vocab_type(vocab) == LLAMA_VOCAB_TYPE_NONE) ::_exit(1);
    char buf[256];
    for (llama_token t = 0; t < llama_vocab_n_tokens(vocab); ++t)
      llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
    std::string probe = "Hello world, it's 3 o'clock: caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\xA6\x99 ";
    for (int c = 1; c < 0x80; ++c) probe += static_cast<char>(c);
    std::vector<llama_token> ids(probe.size() + 8);
    llama_tokenize(vocab, probe.data(), static_cast<int32_t>(probe.size()), ids.data(),
                   static_cast<int32_t>(ids.size()), false, false);
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return io_error(path + ": cannot check the GGUF vocabulary: " + std::strerror(errno));
  }
  if (WIFSIGNALED(status))
    return invalid_argument(path + ": a malformed llama.cpp vocabulary (llama.cpp stops on it: signal " +
                            std::to_string(WTERMSIG(status)) + ")");
  return Status::ok();  // a load that fails cleanly is reported by the real load, with llama.cpp's reason
}

}  // namespace

namespace {

// The vocabulary of the file open on `fd`, checked in a child process first, with at least two tokens.
Result<ModelPtr> load_checked(int fd, const std::string& path) {
  silence_llama_log();
  TT_RETURN_IF_ERROR(check_in_child(fd, path));
  std::string errors;
  ModelPtr model = load_model(fd, errors);
  if (!model) return invalid_argument(path + ": not a llama.cpp vocabulary: " + llama_reason(errors));
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  if (vocab == nullptr || llama_vocab_type(vocab) == LLAMA_VOCAB_TYPE_NONE || llama_vocab_n_tokens(vocab) < 2)
    return invalid_argument(path + ": the GGUF file holds no tokenizer vocabulary");
  return model;
}

}  // namespace

Result<std::unique_ptr<const TokenizerModel>> load_gguf_vocabulary(int fd, const std::string& path) {
  auto model = load_checked(fd, path);
  if (!model) return model.status();
  return std::unique_ptr<const TokenizerModel>(std::make_unique<GgufVocabulary>(std::move(*model), path));
}

Result<std::vector<GgufPiece>> load_gguf_pieces(int fd, const std::string& path) {
  auto model = load_checked(fd, path);
  if (!model) return model.status();
  try {
    const llama_vocab* vocab = llama_model_get_vocab(model->get());
    std::vector<GgufPiece> out(static_cast<size_t>(llama_vocab_n_tokens(vocab)));
    constexpr auto kNoBytes = LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_UNKNOWN | LLAMA_TOKEN_ATTR_UNUSED;
    for (llama_token t = 0; t < static_cast<llama_token>(out.size()); ++t) {
      const auto attr = llama_vocab_get_attr(vocab, t);
      if ((attr & kNoBytes) != 0) continue;
      auto piece = token_piece(vocab, t, false);
      if (!piece) return invalid_argument(path + ": llama.cpp could not render id " + std::to_string(t));
      out[static_cast<size_t>(t)] = {std::move(*piece), (attr & LLAMA_TOKEN_ATTR_BYTE) != 0};
    }
    return out;
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, path + ": out of memory reading the vocabulary's pieces");
  }
}

#else

bool gguf_tokenizers_supported() { return false; }

namespace {

Status no_llama(const std::string& path) {
  return invalid_argument(path +
                          ": a GGUF vocabulary, but this telltale was built without llama.cpp "
                          "(scripts/llama-cpp lib, then reconfigure with TELLTALE_LLAMA=ON)");
}

}  // namespace

Result<std::unique_ptr<const TokenizerModel>> load_gguf_vocabulary(int, const std::string& path) {
  return no_llama(path);
}

Result<std::vector<GgufPiece>> load_gguf_pieces(int, const std::string& path) { return no_llama(path); }

#endif

}  // namespace telltale::input
