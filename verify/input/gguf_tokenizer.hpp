// The llama.cpp implementation of TokenizerModel: the vocabulary of a GGUF file (vocabulary-only or a whole model),
// loaded with llama.cpp's vocab_only mode. Built only when llama.cpp is found (TELLTALE_LLAMA); otherwise a GGUF
// tokenizer is refused with one line.
#pragma once

#include <memory>
#include <string>

#include "input/tokenizer_model.hpp"

namespace telltale::input {

// Whether this build links llama.cpp and so reads GGUF vocabularies.
bool gguf_tokenizers_supported();

// Loads the vocabulary of the GGUF file open on `fd` (read from its start; the caller keeps `fd` open and closes
// it), never its weights. `path` names the file in errors. llama.cpp's own log is silenced for good by the first
// call; its error becomes the one-line message. Errors: not a GGUF or a truncated one, a GGUF without a vocabulary,
// or a build without llama.cpp (kInvalidArgument).
Result<std::unique_ptr<const TokenizerModel>> load_gguf_vocabulary(int fd, const std::string& path);

}  // namespace telltale::input
