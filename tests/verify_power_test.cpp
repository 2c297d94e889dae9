// Power on real generations: KGW (gamma 0.25, delta 2) text of 200 tokens from the reference model, decoded to text
// and re-tokenized as a verifier would see it, is detected at p < 1e-6.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "generator.hpp"
#include "input/tokenizer.hpp"
#include "score/document_scorer.hpp"
#include "score/partial_result.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

using namespace telltale;
using namespace telltale::score;

TEST_CASE("200 watermarked KGW tokens from the reference model are detected at p < 1e-6", "[verify][power]") {
  auto tokenizer = input::Tokenizer::load(std::string(test::kModelDir) + "/tok512.model");
  REQUIRE(tokenizer.is_ok());
  auto model = refmodel::Llama2cModel::load(std::string(test::kModelDir) + "/stories260K.bin");
  REQUIRE(model.is_ok());
  const KeyRing keys = test::fixed_key(40);
  SchemeParams params = default_params(SchemeKind::kKgw, 512);
  params.kgw.gamma = 0.25;
  params.kgw.delta = 2.0f;
  auto hook = Hook::create(keys, params);
  REQUIRE(hook.is_ok());
  auto det = Detector::create(keys, params);
  REQUIRE(det.is_ok());
  auto scorer = DocumentScorer::create(*det, {}).value();
  PartialResult pooled({"k", describe(params), det->null_model(), det->window_size(), {}, ""});

  refmodel::Generator generator(*model);
  std::vector<int32_t> prompt;
  REQUIRE(tokenizer->encode("Once upon a time", prompt).is_ok());
  const int texts = 20;
  int detected = 0;
  std::vector<double> log10_p;
  for (int i = 0; i < texts; ++i) {
    refmodel::GenerationOptions gen;
    gen.max_new_tokens = 200;
    gen.stop_at_end = false;  // exactly 200 new tokens
    gen.top_p = 1.0f;         // sample the model's whole distribution (temperature 1)
    gen.seed = 1000 + static_cast<uint64_t>(i);
    auto seq = hook->new_sequence(0, gen.seed);
    REQUIRE(seq.is_ok());
    auto out = generator.run(prompt, &*hook, &*seq, gen);
    REQUIRE(out.is_ok());
    REQUIRE(out->tokens.size() == 200);
    // What a verifier gets: the completion as text, tokenized again.
    auto text = tokenizer->decode(out->tokens);
    REQUIRE(text.is_ok());
    std::vector<int32_t> ids;
    REQUIRE(tokenizer->encode(*text, ids).is_ok());
    DocumentScore d;
    scorer.score(ids, 0, d);
    pooled.add_document(d);
    const double lp = evaluate(d.tally, det->null_model()).log_p;
    log10_p.push_back(lp / std::log(10.0));
    if (lp < std::log(1e-6)) ++detected;
  }
  std::string all;
  for (double x : log10_p) all += std::to_string(x).substr(0, 6) + " ";
  const auto summary = pooled.summarize();
  INFO("log10 p of each 200-token text: " << all << "; detected at 1e-6: " << detected << "/" << texts
                                          << "; pooled log10 p " << summary.pooled.log_p / std::log(10.0));
  // The model is tiny and often near-deterministic, so a few texts carry little entropy to watermark; the bar is
  // that most 200-token texts are detected at 1e-6 (observed 17/20 for this key and these seeds, median p ~ 1e-10).
  CHECK(detected >= 16);
  std::sort(log10_p.begin(), log10_p.end());
  CHECK(log10_p[texts / 2] < -6.0);
  CHECK(summary.pooled.log_p < std::log(1e-100));
}
