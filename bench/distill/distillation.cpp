// Corpora from the reference model, the rho-mixture, and the two ways of examining a student.
#include "distillation.hpp"

#include <algorithm>
#include <cmath>

#include "generator.hpp"
#include "radio/suspect_scorer.hpp"

namespace telltale::distill {
namespace {

double next_uniform(uint64_t& state) { return static_cast<double>(refmodel::splitmix64(state) >> 11) * 0x1.0p-53; }

}  // namespace

Result<Corpus> teacher_corpus(refmodel::Llama2cModel& model, const Hook* hook, const TeacherOptions& options) {
  refmodel::Generator generator(model);
  refmodel::GenerationOptions g;
  g.max_new_tokens = options.max_tokens;
  g.temperature = options.temperature;
  g.top_p = options.top_p;
  Corpus out;
  for (size_t d = 0; d < options.documents; ++d) {
    g.seed = options.seed + d;
    Result<refmodel::Generation> gen = Status::ok();
    if (hook) {
      auto state = hook->new_sequence(0, g.seed);
      if (!state) return state.status();
      gen = generator.run({}, hook, &*state, g);
    } else {
      gen = generator.run({}, nullptr, nullptr, g);
    }
    if (!gen) return gen.status();
    out.tokens += gen->tokens.size();
    out.docs.push_back(std::move(gen->tokens));
  }
  return out;
}

Result<Corpus> mixture(const Corpus& watermarked, const Corpus& plain, double rho, uint64_t total_tokens) {
  if (!(rho >= 0 && rho <= 1)) return invalid_argument("rho must be in [0, 1]");
  const auto want_wm = static_cast<uint64_t>(std::llround(rho * static_cast<double>(total_tokens)));
  Corpus out;
  uint64_t wm = 0;
  for (size_t i = 0; i < watermarked.docs.size() && (wm < want_wm || (rho > 0 && wm == 0)); ++i) {
    wm += watermarked.docs[i].size();
    out.docs.push_back(watermarked.docs[i]);
  }
  if (wm < want_wm) return invalid_argument("the watermarked corpus is too small for this rho");
  out.tokens = wm;
  for (size_t i = 0; i < plain.docs.size() && out.tokens < total_tokens; ++i) {
    out.tokens += plain.docs[i].size();
    out.docs.push_back(plain.docs[i]);
  }
  if (out.tokens < total_tokens) return invalid_argument("the plain corpus is too small for this mixture");
  return out;
}

std::vector<radio::PredictionRecord> student_reads(const NgramStudent& student, const Corpus& text) {
  std::vector<radio::PredictionRecord> out;
  std::vector<double> scratch;
  for (const auto& doc : text.docs) {
    radio::PredictionRecord r;
    r.ids = doc;
    for (size_t p = 1; p <= doc.size(); ++p) {
      r.positions.push_back(static_cast<uint32_t>(p));
      r.predicted.push_back({student.top1(std::span(doc).first(p), scratch)});
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<radio::PredictionRecord> student_answers(const NgramStudent& student, const Corpus& prompts,
                                                     size_t prompt_tokens, size_t answer_tokens, uint64_t seed) {
  std::vector<radio::PredictionRecord> out;
  std::vector<double> scratch;
  uint64_t rng = seed;
  std::vector<int32_t> text;
  for (const auto& doc : prompts.docs) {
    const size_t p = std::min(prompt_tokens, doc.size());
    text.assign(doc.begin(), doc.begin() + static_cast<ptrdiff_t>(p));
    for (size_t i = 0; i < answer_tokens; ++i) text.push_back(student.sample(text, next_uniform(rng), scratch));
    out.push_back(radio::answer_record(std::span(text).first(p), std::span(text).subspan(p)));
  }
  return out;
}

}  // namespace telltale::distill
