// Teacher text as the radioactivity filter and the reference predictions read it: documents from files,
// directories, JSONL fields or .ids, each as token ids in the watermark's tokenizer.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

struct TeacherText {
  std::vector<std::string> inputs;  // text files, directories, .jsonl, .ids; "-" is stdin
  std::string field;                // JSONL: the text's field, e.g. response or messages[-1].content
  bool reads_stdin() const;         // stdin cannot be read twice
};

using TeacherDocumentCallback = std::function<Status(const input::Document& doc, std::span<const int32_t> ids)>;

// Calls `f` on every document of `text` in input order, with its ids (.ids are checked against the tokenizer's
// vocabulary); stops at the first error, of the reading or of `f`.
Status for_each_teacher_document(const TeacherText& text, const input::Tokenizer& tokenizer,
                                 const TeacherDocumentCallback& f);

}  // namespace telltale::radio
