#include "bench_corpus.hpp"

#include <algorithm>
#include <optional>

namespace telltale::research {

const std::vector<std::string>& bench_prompts() {
  static const std::vector<std::string> prompts = {
      "Once upon a time",
      "One day, a little girl named Lily",
      "Tom and his dog went to the park",
      "There was a big red ball",
      "The sun was shining and",
      "A little bird lived in a tree",
      "Sam wanted to play with his friends",
      "Mom said it was time for bed",
  };
  return prompts;
}

Result<std::vector<Document>> generate_corpus(refmodel::Llama2cModel& model,
                                              const std::vector<std::vector<int32_t>>& prompts, const Hook* hook,
                                              const CorpusOptions& options) {
  if (prompts.empty()) return invalid_argument("the bench needs at least one prompt");
  refmodel::Generator generator(model);
  std::vector<Document> docs;
  docs.reserve(static_cast<size_t>(options.documents));
  for (int d = 0; d < options.documents; ++d) {
    Document doc;
    doc.prompt_index = static_cast<size_t>(d) % prompts.size();
    doc.seed = options.seed + static_cast<uint64_t>(d);
    uint64_t chunk_index = 0;
    while (doc.tokens.size() < static_cast<size_t>(options.tokens)) {
      std::vector<int32_t> context;
      if (doc.tokens.empty()) {
        context = prompts[doc.prompt_index];
      } else {
        const size_t carry = std::min(doc.tokens.size(), static_cast<size_t>(options.carry));
        context.assign(doc.tokens.end() - static_cast<std::ptrdiff_t>(carry), doc.tokens.end());
      }
      refmodel::GenerationOptions gen;
      gen.max_new_tokens = std::min(options.chunk_tokens, options.tokens - static_cast<int>(doc.tokens.size()));
      gen.top_p = 1.0f;
      gen.stop_at_end = false;  // exactly the requested length; a BOS mid-text starts a new story, as in llama2.c
      gen.seed = doc.seed * 1000003u + chunk_index++;
      std::optional<SeqState> state;
      if (hook != nullptr) {
        auto s = hook->new_sequence(0, gen.seed);
        if (!s) return s.status();
        state.emplace(std::move(s).value());
      }
      auto g = generator.run(context, hook, state ? &*state : nullptr, gen);
      if (!g) return g.status();
      doc.tokens.insert(doc.tokens.end(), g->tokens.begin(), g->tokens.end());
      doc.green_mass.insert(doc.green_mass.end(), g->green_mass.begin(), g->green_mass.end());
      doc.model_log_prob.insert(doc.model_log_prob.end(), g->model_log_prob.begin(), g->model_log_prob.end());
      doc.model_entropy.insert(doc.model_entropy.end(), g->model_entropy.begin(), g->model_entropy.end());
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace telltale::research
