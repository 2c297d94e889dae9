// A document's token ids, the one rule every reader of documents follows: a pre-tokenized document (.ids) gives its
// own ids, a text goes through the tokenizer. Used by the corpus scanner and by radioactivity's teacher text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "telltale/status.hpp"

namespace telltale::score {

// "source:line" for a document that starts on a line of its file, else "source": how errors and records name it.
std::string document_name(const input::Document& doc);

// Writes the ids of `doc` to `ids` (replacing its contents). `tokenizer` may be null when every input is
// pre-tokenized: a text document is then an error. Errors start with the document's name.
Status document_ids(const input::Document& doc, const input::Tokenizer* tokenizer, std::vector<int32_t>& ids);

}  // namespace telltale::score
