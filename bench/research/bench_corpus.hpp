// The bench's texts: long generations from the reference model over a fixed prompt set, watermarked with one scheme
// or not at all (the unwatermarked twins use the same seeds). The model's context is 512 tokens, so a document of
// 1000 tokens is generated in chunks, each prompted with the last `carry` tokens of the one before; the hook sees
// exactly the windows the verifier will read, so the chunks join into one consistent token stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "generator.hpp"
#include "telltale/hook.hpp"
#include "telltale/status.hpp"

namespace telltale::research {

struct Document {
  size_t prompt_index = 0;
  uint64_t seed = 0;
  std::vector<int32_t> tokens;     // the generated ids of every chunk, in order (the prompt is not included)
  std::vector<double> green_mass;  // per token (KGW only): the green probability mass it was drawn from, else NaN
  // Per token, under the unwatermarked model (temperature 1, every id): ln p of the token and the entropy of the
  // distribution, in nats. Perplexity = exp(-mean ln p).
  std::vector<double> model_log_prob;
  std::vector<double> model_entropy;
};

struct CorpusOptions {
  int documents = 10;
  int tokens = 1000;       // generated ids per document
  int chunk_tokens = 384;  // ids per chunk (prompt + chunk must fit the 512-token context)
  int carry = 32;          // ids of the previous chunk that prompt the next
  uint64_t seed = 1;       // document d uses seed + d (watermarked and unwatermarked alike)
};

// The fixed prompt set (TinyStories-style openings); document d uses prompt d mod size.
const std::vector<std::string>& bench_prompts();

// Generates the documents, watermarked with `hook` (nullptr: unwatermarked). Temperature 1 and the model's whole
// distribution (top-p 1), the multinomial sampling of the paper's main table.
Result<std::vector<Document>> generate_corpus(refmodel::Llama2cModel& model,
                                              const std::vector<std::vector<int32_t>>& prompts, const Hook* hook,
                                              const CorpusOptions& options);

}  // namespace telltale::research
