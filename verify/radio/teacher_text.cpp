// Reads teacher text document by document, through the same id rule as detect (score/document_ids.hpp).
#include "radio/teacher_text.hpp"

#include <algorithm>

#include "score/document_ids.hpp"

namespace telltale::radio {

bool TeacherText::reads_stdin() const { return std::find(inputs.begin(), inputs.end(), "-") != inputs.end(); }

Status for_each_teacher_document(const TeacherText& text, const input::Tokenizer& tokenizer,
                                 const TeacherDocumentCallback& f) {
  input::InputOptions options;
  options.field = text.field;
  options.vocab_size = tokenizer.vocab_size();
  auto source = input::DocumentSource::open(text.inputs, options);
  if (!source) return source.status();
  input::Document doc;
  std::vector<int32_t> ids;
  while (true) {
    auto more = source->next(doc);
    if (!more) return more.status();
    if (!*more) return Status::ok();
    TT_RETURN_IF_ERROR(score::document_ids(doc, &tokenizer, ids));
    TT_RETURN_IF_ERROR(f(doc, ids));
  }
}

}  // namespace telltale::radio
