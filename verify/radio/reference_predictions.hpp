// `radioactivity predict` as a library call: the reference model (a llama2.c model, in-tree) reads teacher text as a
// suspect in reading mode and its top-k next ids at every position are written as a predictions file
// (spec/predictions-format.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "input/tokenizer.hpp"
#include "llama2c_model.hpp"
#include "radio/teacher_text.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

// A text longer than the model's context is read in independent chunks of this many ids (the model's context less
// its BOS), each written as its own record named doc@offset.
size_t prediction_chunk_ids(const refmodel::Llama2cModel& model);

// The record name of the chunk of `doc` that starts at id `offset`: "source[:line][@offset]".
std::string prediction_record_name(const input::Document& doc, size_t offset);

// Writes the predictions of `model` (named `model_name` in the header) on every document of `text` to `out`, which
// must not exist; returns the number of records written. top_k in [1, 64]; the model and tokenizer must share a
// vocabulary.
Result<uint64_t> write_reference_predictions(const TeacherText& text, refmodel::Llama2cModel& model,
                                             const std::string& model_name, const input::Tokenizer& tokenizer,
                                             uint32_t top_k, const std::string& out);

}  // namespace telltale::radio
