// The llama.cpp implementation of TokenizerModel: the vocabulary of a GGUF file (vocabulary-only or a whole model),
// loaded with llama.cpp's vocab_only mode. Built only when llama.cpp is found (TELLTALE_LLAMA); otherwise a GGUF
// tokenizer is refused with one line.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "input/tokenizer_model.hpp"

namespace telltale::input {

// Whether this build links llama.cpp and so reads GGUF vocabularies.
bool gguf_tokenizers_supported();

// Loads the vocabulary of the GGUF file open on `fd` (read from its start; the caller keeps `fd` open and closes
// it), never its weights. `path` names the file in errors. llama.cpp's own log is silenced for good by the first
// call; its error becomes the one-line message. Errors: not a GGUF or a truncated one, a GGUF without a vocabulary,
// or a build without llama.cpp (kInvalidArgument).
Result<std::unique_ptr<const TokenizerModel>> load_gguf_vocabulary(int fd, const std::string& path);

// One id of a GGUF vocabulary as the cross-tokenizer piece table reads it (radio/piece_table.hpp): the bytes it
// stands for inside a text, as a server streams them (llama_token_to_piece, the leading space kept: "▁the" and
// byte-level BPE's "Ġthe" are " the", SPM's byte token <0xE2> is that byte), and whether it is a byte token.
// Control, unknown and unused tokens stand for no bytes.
struct GgufPiece {
  std::string bytes;
  bool byte_token = false;
};

// Every id's piece, id = index, of the GGUF vocabulary open on `fd` (read from its start), loaded and checked as
// load_gguf_vocabulary loads it; the same errors.
Result<std::vector<GgufPiece>> load_gguf_pieces(int fd, const std::string& path);

}  // namespace telltale::input
