// The paraphrase attack: the text is rewritten sentence by sentence by the reference model WITHOUT the key. Each
// sentence keeps its first `keep_words` words (0: only the sentence count survives) and the model writes the rest
// after the rewritten text so far (one pass over the model, temperature 1, every id), stopping at its first sentence
// end. The attacker has the same model but not the key, so whatever watermark survives comes from the kept words and
// from the model's low-entropy steps. The rewrite stops early if it would outgrow the model's context.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "input/tokenizer.hpp"
#include "llama2c_model.hpp"
#include "telltale/status.hpp"

namespace telltale::research {

struct ParaphraseOptions {
  int keep_words = 0;
  uint64_t seed = 1;  // nonzero
};

class Paraphraser {
 public:
  Paraphraser(refmodel::Llama2cModel& model, const input::Tokenizer& tokenizer);
  Result<std::string> rewrite(const std::string& text, const ParaphraseOptions& options);

 private:
  refmodel::Llama2cModel& model_;
  const input::Tokenizer& tokenizer_;
  std::vector<bool> ends_sentence_;  // per id: its piece contains '.', '!' or '?'
  std::vector<float> probs_;
};

}  // namespace telltale::research
