// The ids of one document: its own when pre-tokenized, else its text tokenized.
#include "score/document_ids.hpp"

namespace telltale::score {

std::string document_name(const input::Document& doc) {
  return doc.line > 0 ? doc.source + ":" + std::to_string(doc.line) : doc.source;
}

Status document_ids(const input::Document& doc, const input::Tokenizer* tokenizer, std::vector<int32_t>& ids) {
  if (doc.pretokenized) {
    ids = doc.ids;
    return Status::ok();
  }
  if (tokenizer == nullptr) return invalid_argument(document_name(doc) + ": a text document needs a tokenizer");
  Status s = tokenizer->encode(doc.text, ids);
  return s.is_ok() ? s : Status(s.code(), document_name(doc) + ": " + s.message());
}

}  // namespace telltale::score
