// The SentencePiece implementation of TokenizerModel: a .model file's serialized ModelProto, loaded from memory.
#pragma once

#include <memory>
#include <string>

#include "input/tokenizer_model.hpp"

namespace telltale::input {

// Loads a SentencePiece model from the file's `bytes` (already read and hashed by the caller); `path` names it in
// errors. Errors: not a SentencePiece model, or one without pieces (kInvalidArgument).
Result<std::unique_ptr<const TokenizerModel>> load_sentencepiece_model(const std::string& bytes,
                                                                       const std::string& path);

}  // namespace telltale::input
