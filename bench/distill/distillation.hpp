// The distillation simulator: a teacher (the reference model, watermarked through the hook) writes a corpus, a
// student is trained on a mixture holding a fraction rho of it, and the student is then examined the two ways a
// suspect can be: reading the teacher's text (open model) or answering prompts (closed model).
#pragma once

#include <cstdint>
#include <vector>

#include "llama2c_model.hpp"
#include "ngram_student.hpp"
#include "radio/predictions.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::distill {

struct Corpus {
  std::vector<std::vector<int32_t>> docs;
  uint64_t tokens = 0;
};

struct TeacherOptions {
  size_t documents = 100;
  int max_tokens = 256;  // per document
  float temperature = 1.0f;
  float top_p = 0.95f;
  uint64_t seed = 1;  // document d uses seed + d
};

// `documents` stories from BOS; watermarked when `hook` is given, the unwatermarked twin process otherwise.
Result<Corpus> teacher_corpus(refmodel::Llama2cModel& model, const Hook* hook, const TeacherOptions& options);

// Whole documents: the watermarked ones first until they hold rho * total_tokens ids (at least one when rho > 0),
// then plain ones up to total_tokens. Fails when either corpus runs short.
Result<Corpus> mixture(const Corpus& watermarked, const Corpus& plain, double rho, uint64_t total_tokens);

// Open model: the student reads each document and predicts every next id (top-1).
std::vector<radio::PredictionRecord> student_reads(const NgramStudent& student, const Corpus& text);

// Closed model: the student is prompted with the first `prompt_tokens` ids of each document and samples an answer of
// `answer_tokens` ids (temperature 1, its own distribution), from a splitmix64 stream seeded with `seed`.
std::vector<radio::PredictionRecord> student_answers(const NgramStudent& student, const Corpus& prompts,
                                                     size_t prompt_tokens, size_t answer_tokens, uint64_t seed);

}  // namespace telltale::distill
