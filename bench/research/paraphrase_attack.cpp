#include "paraphrase_attack.hpp"

#include <algorithm>

#include "generator.hpp"
#include "llama2c_sampler.hpp"
#include "text_attacks.hpp"

namespace telltale::research {
namespace {

// The first `keep_words` words of `sentence` with the whitespace before and between them; `whole` says whether
// that is the entire sentence.
std::string opening(const std::string& sentence, int keep_words, bool& whole) {
  std::string kept;
  int words = 0;
  whole = true;
  for (const std::string& piece : split_words(sentence)) {
    const bool word = piece[0] != ' ' && piece[0] != '\n';
    if (word && words == keep_words) {
      whole = false;
      break;
    }
    kept += piece;
    words += word ? 1 : 0;
  }
  return kept;
}

}  // namespace

Paraphraser::Paraphraser(refmodel::Llama2cModel& model, const input::Tokenizer& tokenizer)
    : model_(model),
      tokenizer_(tokenizer),
      ends_sentence_(static_cast<size_t>(tokenizer.vocab_size())),
      probs_(static_cast<size_t>(model.vocab_size())) {
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    auto piece = tokenizer.decode(std::vector<int32_t>{id});
    ends_sentence_[static_cast<size_t>(id)] = piece && piece->find_first_of(".!?") != std::string::npos;
  }
}

Result<std::string> Paraphraser::rewrite(const std::string& text, const ParaphraseOptions& options) {
  uint64_t rng = options.seed;
  std::vector<int32_t> out;
  int pos = 0;
  model_.reset();
  std::span<const float> logits = model_.forward(refmodel::kLlama2cBos, pos++);
  const int limit = model_.seq_len() - 1;
  auto feed = [&](int32_t id) {
    out.push_back(id);
    logits = model_.forward(id, pos++);
  };
  for (const std::string& sentence : split_sentences(text)) {
    bool whole = false;
    const std::string kept = opening(sentence, options.keep_words, whole);
    std::vector<int32_t> ids;
    TT_RETURN_IF_ERROR(tokenizer_.encode(whole ? sentence : kept, ids));
    std::vector<int32_t> original;
    TT_RETURN_IF_ERROR(tokenizer_.encode(sentence, original));
    if (pos + static_cast<int>(original.size()) + 8 > limit) break;  // the context is full: the rewrite ends here
    for (int32_t id : ids) feed(id);
    if (whole) continue;
    // The rest of the sentence: sampled until the model ends a sentence, or twice the original's length.
    for (size_t step = 0; step < 2 * original.size() + 8 && pos < limit; ++step) {
      std::copy(logits.begin(), logits.end(), probs_.begin());
      refmodel::softmax(probs_);
      const int32_t id = refmodel::sample_mult(probs_, refmodel::random_f32(rng));
      if (id == refmodel::kLlama2cBos || id == refmodel::kLlama2cEos) break;
      feed(id);
      if (ends_sentence_[static_cast<size_t>(id)]) break;
    }
  }
  return tokenizer_.decode(out);
}

}  // namespace telltale::research
