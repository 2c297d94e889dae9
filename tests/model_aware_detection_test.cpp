// Model-aware detection and attribution on generated text: the weights never read the key, the weighted test finds
// the watermark, the weighted account layer attributes the right account and accuses no one on human text.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "attrib/account_evidence.hpp"
#include "attrib/attribution_scan.hpp"
#include "generator.hpp"
#include "model/position_weights.hpp"
#include "model/weighted_detection.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "test_paths.hpp"

using namespace telltale;

namespace {

KeyRing key_with(uint8_t base) {
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(base + 7 * i);
  return std::move(KeyRing::from_secret(secret)).value();
}

// "Once upon a time" in tok512 ids, then `tokens` generated with the hook of (key, params, account) and `seed`.
std::vector<int32_t> generate(const KeyRing& key, const SchemeParams& params, uint32_t account, uint64_t seed,
                              int tokens) {
  auto model = refmodel::Llama2cModel::load(test::model_file("stories260K.bin"));
  REQUIRE(model.is_ok());
  auto hook = Hook::create(key, params);
  REQUIRE(hook.is_ok());
  auto seq = hook->new_sequence(account, seed);
  REQUIRE(seq.is_ok());
  refmodel::Generator generator(*model);
  refmodel::GenerationOptions options;
  options.max_new_tokens = tokens;
  options.seed = seed;
  options.stop_at_end = false;
  const std::vector<int32_t> prompt = {403, 407, 261, 378};
  auto gen = generator.run(prompt, &*hook, &*seq, options);
  REQUIRE(gen.is_ok());
  std::vector<int32_t> all = gen->prompt;
  all.insert(all.end(), gen->tokens.begin(), gen->tokens.end());
  return all;
}

model::PositionWeigher weigher_for(const SchemeParams& params, bool account_layer) {
  const model::BiasShape shape = account_layer ? model::account_shape(params) : model::detection_shape(params);
  auto w =
      model::PositionWeigher::create(test::model_file("stories260K.bin"), 512, {}, model::is_red_green(params), shape);
  INFO(w.status().message());
  REQUIRE(w.is_ok());
  return std::move(w).value();
}

}  // namespace

TEST_CASE("model-aware weights are the same under two keys and only the statistic differs", "[model-aware]") {
  const SchemeParams params = default_params(SchemeKind::kKgw, 512);
  const KeyRing a = key_with(0xA0), b = key_with(0x31);
  const std::vector<int32_t> ids = generate(a, params, 0, 7, 200);
  model::PositionWeigher weigher = weigher_for(params, false);
  std::vector<uint32_t> first, again;
  weigher.weigh(ids, first);
  weigher.weigh(ids, again);
  CHECK(first == again);
  auto da = Detector::create(a, params), db = Detector::create(b, params);
  REQUIRE(da.is_ok());
  REQUIRE(db.is_ok());
  const Detector* both[] = {&*da, &*db};
  auto weighted = model::WeightedDetection::create(both, true);
  REQUIRE(weighted.is_ok());
  const model::WeightedDocument& doc = weighted->add_document(ids, 4, first);
  REQUIRE(doc.by_key.size() == 2);
  // Which tuples count and what they weigh never depend on the key: the same total weight and null mean.
  CHECK(doc.by_key[0].tuples == doc.by_key[1].tuples);
  CHECK(doc.by_key[0].trials == doc.by_key[1].trials);
  CHECK(doc.by_key[0].expected == doc.by_key[1].expected);
  CHECK(doc.by_key[0].trials > 10);
  // The watermarking key's weighted score stands out; the other key's does not.
  INFO("log10 p: key a " << doc.by_key[0].log_p / std::log(10) << ", key b " << doc.by_key[1].log_p / std::log(10));
  CHECK(doc.by_key[0].log_p < std::log(1e-6));
  CHECK(doc.by_key[1].log_p > std::log(1e-3));
}

TEST_CASE("model-aware weights are zero where the next token is certain and larger at flat distributions",
          "[model-aware]") {
  const model::BiasShape shape{0.25, 2.0};
  const std::vector<float> certain = {0, 1, 0, 0};
  const std::vector<float> flat(512, 1.0f / 512);
  CHECK(model::position_weight(certain, model::WeightKind::kExpectedGain, true, shape) == Approx(0).margin(1e-12));
  CHECK(model::position_weight(flat, model::WeightKind::kExpectedGain, true, shape) > 0.95);
  // The spike entropy at a point mass is 1 / (1 + z), z = (1 - gamma)(e^delta - 1) / (1 + (e^delta - 1) gamma).
  const double z = 0.75 * (std::exp(2.0) - 1) / (1 + (std::exp(2.0) - 1) * 0.25);
  CHECK(model::position_weight(certain, model::WeightKind::kSpikeEntropy, true, shape) == Approx(1 / (1 + z)));
  CHECK(model::position_weight(certain, model::WeightKind::kExpectedGain, false, shape) == 0);
  CHECK(model::position_weight(flat, model::WeightKind::kExpectedGain, false, shape) == Approx(1 - 1.0 / 512));
  CHECK(model::weight_units(0.0) == 0);
  CHECK(model::weight_units(1e-9) == 1);  // rounded up: never below the weight
  CHECK(model::weight_units(1.0) == model::kWeightGrid);
}

TEST_CASE("a weighted account mark counts as that many unit marks", "[model-aware]") {
  auto registry = attrib::AccountRegistry::from_ids(std::vector<uint32_t>{1, 2, 77, 1000});
  REQUIRE(registry.is_ok());
  attrib::AccountEvidence weighted, repeated;
  const std::vector<std::pair<uint32_t, uint32_t>> marks = {{(5u << 1) | 1u, 3}, {(900u << 1), 2}, {(5u << 1), 7}};
  for (const auto& [mark, w] : marks) {
    weighted.add(mark, w);
    for (uint32_t i = 0; i < w; ++i) repeated.add(mark);
  }
  std::vector<uint64_t> mw, mr;
  weighted.matches(*registry, mw);
  repeated.matches(*registry, mr);
  CHECK(weighted.scored() == 12);
  CHECK(mw == mr);
}

TEST_CASE("the weighted account layer attributes a fingerprinted text and accuses no one on human-like text",
          "[model-aware]") {
  const SchemeParams params = default_params(SchemeKind::kFingerprint, 512);
  const KeyRing key = key_with(0x5C);
  std::vector<uint32_t> ids;
  for (uint32_t a = 0; a < 2000; ++a) ids.push_back(a * 3 + 1);  // 77 is not of the form 3a + 1
  ids.push_back(77);
  auto registry = attrib::AccountRegistry::from_ids(ids);
  REQUIRE(registry.is_ok());
  auto detector = Detector::create(key, params);
  REQUIRE(detector.is_ok());
  attrib::AttributionOptions options;
  options.weighted = true;
  auto scan = attrib::AttributionScan::create(*detector, *registry, options);
  REQUIRE(scan.is_ok());
  model::PositionWeigher weigher = weigher_for(params, true);
  std::vector<uint32_t> weights;

  const std::vector<int32_t> marked = generate(key, params, 77, 11, 300);
  weigher.weigh(marked, weights);
  const attrib::Attribution& hit = scan->add_document(marked, 4, "marked", weights).result;
  REQUIRE(hit.weighted);
  REQUIRE(hit.attributed == 1);
  CHECK(hit.ranked[0].account == 77);

  // The same model's text without any watermark (another key's hook, so nothing of this key is in it).
  const std::vector<int32_t> other = generate(key_with(0x11), default_params(SchemeKind::kKgw, 512), 0, 12, 300);
  weigher.weigh(other, weights);
  const attrib::Attribution& miss = scan->add_document(other, 4, "other", weights).result;
  CHECK(miss.attributed == 0);
  CHECK(miss.scored > 0);
}
