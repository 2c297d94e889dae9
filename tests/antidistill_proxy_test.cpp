// The antidistillation proxy against the reference runner: its adjustment values, the generator with it, and the
// proxies it refuses.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "antidistill_proxy.hpp"
#include "antidistill_test_support.hpp"
#include "generator.hpp"
#include "telltale/telltale.hpp"

using namespace telltale;
using namespace telltale::refmodel;
namespace fs = std::filesystem;

namespace {

const std::vector<int> kFed = {kLlama2cBos, 403, 407, 261, 378, 432};  // BOS and the greedy story's first ids

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("telltale-antidistill-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<double> log_softmax(std::span<const float> z) {
  double max = -INFINITY, sum = 0;
  for (float x : z) max = std::max<double>(max, x);
  for (float x : z) sum += std::exp(x - max);
  std::vector<double> out;
  for (float x : z) out.push_back(x - max - std::log(sum));
  return out;
}

KeyRing ring() {
  std::vector<uint8_t> s(32, 9);
  auto r = KeyRing::from_secret(s);
  REQUIRE(r);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("a fingerprint proxy's values are the reference runner's next-token probabilities", "[antidistill][proxy]") {
  auto proxy = AntidistillProxy::open(AntidistillMode::kFingerprint, test::model_file("stories260K.bin"), 512);
  REQUIRE(proxy);
  auto model = Llama2cModel::load(test::model_file("stories260K.bin"));
  REQUIRE(model);
  for (size_t pos = 0; pos < kFed.size(); ++pos) {
    REQUIRE(proxy->feed(kFed[pos], static_cast<int>(pos)).is_ok());
    const std::vector<double> lp = log_softmax(model->forward(kFed[pos], static_cast<int>(pos)));
    const Adjustment a = proxy->adjustment(3.0f);
    REQUIRE(a.kind == AdjustmentKind::kGreenAligned);
    REQUIRE(a.n_vocab == 512);
    CHECK(a.lambda == 3.0f);
    double sum = 0;
    for (int v = 0; v < 512; ++v) {
      INFO("pos " << pos << " id " << v);
      CHECK(a.values[v] == Approx(std::exp(lp[static_cast<size_t>(v)])).margin(1e-6));
      sum += a.values[v];
    }
    CHECK(sum == Approx(1.0).margin(1e-4));
  }
}

TEST_CASE("a degrade proxy's values are the finite difference of its two copies' log-probabilities over 2 eps",
          "[antidistill][proxy]") {
  const fs::path dir = scratch("fd");
  test::write_degrade_proxy(dir, 1.25f, "0.25");
  auto proxy = AntidistillProxy::open(AntidistillMode::kDegrade, dir.string(), 512);
  REQUIRE(proxy);
  CHECK(proxy->eps() == 0.25);
  auto plus = Llama2cModel::load((dir / "plus.bin").string());
  auto minus = Llama2cModel::load((dir / "minus.bin").string());
  REQUIRE(plus);
  REQUIRE(minus);
  double largest = 0;
  for (size_t pos = 0; pos < kFed.size(); ++pos) {
    REQUIRE(proxy->feed(kFed[pos], static_cast<int>(pos)).is_ok());
    const auto lp = log_softmax(plus->forward(kFed[pos], static_cast<int>(pos)));
    const auto lm = log_softmax(minus->forward(kFed[pos], static_cast<int>(pos)));
    const Adjustment a = proxy->adjustment(1.0f);
    REQUIRE(a.kind == AdjustmentKind::kAdd);
    for (size_t v = 0; v < 512; ++v) {
      const double want = (lp[v] - lm[v]) / 0.5;
      INFO("pos " << pos << " id " << v);
      CHECK(a.values[v] == Approx(want).margin(1e-5));
      largest = std::max(largest, std::fabs(want));
    }
  }
  CHECK(largest > 0.1);  // the copies differ, so the test compares something
  fs::remove_all(dir);
}

namespace {

// The reference model as teacher with a KGW hook, and the two proxies (a degrade directory, the model itself).
struct Rig {
  fs::path dir;
  Llama2cModel model;
  Hook hook;
  SchemeParams params;

  static Rig make(const std::string& name) {
    const fs::path dir = scratch(name);
    test::write_degrade_proxy(dir, 1.5f, "0.05");
    auto model = Llama2cModel::load(test::model_file("stories260K.bin"));
    REQUIRE(model);
    const SchemeParams params = default_params(SchemeKind::kKgw, 512);
    auto hook = Hook::create(ring(), params);
    REQUIRE(hook);
    return Rig{dir, std::move(model).value(), std::move(hook).value(), params};
  }
  ~Rig() { fs::remove_all(dir); }

  AntidistillProxy proxy(AntidistillMode mode) const {
    auto p = AntidistillProxy::open(
        mode, mode == AntidistillMode::kDegrade ? dir.string() : test::model_file("stories260K.bin"), 512);
    REQUIRE(p);
    return std::move(p).value();
  }

  // Prompt plus generated ids.
  std::vector<int32_t> generate(AntidistillProxy* proxy, float lambda, uint64_t seed, int tokens) {
    auto seq = hook.new_sequence(0, seed);
    REQUIRE(seq);
    GenerationOptions o;
    o.max_new_tokens = tokens;
    o.seed = seed;
    o.proxy = proxy;
    o.lambda = lambda;
    Generator gen(model);
    auto out = gen.run(std::vector<int32_t>{403, 407}, &hook, &*seq, o);
    REQUIRE(out);
    std::vector<int32_t> all = out->prompt;
    all.insert(all.end(), out->tokens.begin(), out->tokens.end());
    return all;
  }
};

}  // namespace

TEST_CASE("generation with a proxy at lambda 0 is bit-identical to generation without, and a large lambda changes it",
          "[antidistill][proxy][generate]") {
  Rig rig = Rig::make("gen");
  for (AntidistillMode mode : {AntidistillMode::kDegrade, AntidistillMode::kFingerprint}) {
    AntidistillProxy proxy = rig.proxy(mode);
    INFO("mode " << antidistill_mode_name(mode));
    CHECK(rig.generate(&proxy, 0.0f, 5, 120) == rig.generate(nullptr, 0.0f, 5, 120));
    CHECK(rig.generate(&proxy, 40.0f, 5, 120) != rig.generate(nullptr, 0.0f, 5, 120));
  }
}

TEST_CASE("text generated from the reference model with either antidistillation mode is still detected",
          "[antidistill][proxy][detect]") {
  Rig rig = Rig::make("detect");
  auto det = Detector::create(ring(), rig.params);
  REQUIRE(det);
  for (AntidistillMode mode : {AntidistillMode::kDegrade, AntidistillMode::kFingerprint}) {
    AntidistillProxy proxy = rig.proxy(mode);
    double green = 0, n = 0;
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const auto all = rig.generate(&proxy, mode == AntidistillMode::kDegrade ? 1.0f : 4.0f, seed, 200);
      if (all.size() <= det->window_size()) continue;
      std::vector<double> scores(all.size() - det->window_size());
      REQUIRE(det->score_sequence(all, det->window_size(), scores).is_ok());
      green += std::accumulate(scores.begin(), scores.end(), 0.0);
      n += static_cast<double>(scores.size());
    }
    const double gamma = rig.params.kgw.gamma;
    const double z = (green - gamma * n) / std::sqrt(n * gamma * (1 - gamma));
    INFO("mode " << antidistill_mode_name(mode) << " green " << green << " of " << n << " z " << z);
    CHECK(n > 150);
    CHECK(z > 4.0);
  }
}

TEST_CASE("bad proxies are refused with one line: missing files, bad eps, another vocabulary, the wrong kind of path",
          "[antidistill][proxy][errors]") {
  const fs::path dir = scratch("bad");
  const std::string model = test::model_file("stories260K.bin");
  test::write_tiny_model(dir / "tiny.bin", 16);
  REQUIRE(Llama2cModel::load((dir / "tiny.bin").string()));  // a valid model: only its vocabulary is wrong
  struct Case {
    const char* what;
    AntidistillMode mode;
    std::string path;
    StatusCode code;
    const char* needle;
  };
  test::write_degrade_proxy(dir / "ok", 1.1f, "0.01");
  std::vector<Case> cases = {
      {"a missing model", AntidistillMode::kFingerprint, (dir / "none.bin").string(), StatusCode::kIo, "none.bin"},
      {"a proxy of another vocabulary", AntidistillMode::kFingerprint, (dir / "tiny.bin").string(),
       StatusCode::kInvalidArgument, "16 ids but the teacher 512"},
      {"a directory for fingerprint", AntidistillMode::kFingerprint, (dir / "ok").string(),
       StatusCode::kInvalidArgument, "not a directory"},
      {"a file for degrade", AntidistillMode::kDegrade, model, StatusCode::kInvalidArgument, "directory"},
      {"a missing directory", AntidistillMode::kDegrade, (dir / "absent").string(), StatusCode::kInvalidArgument,
       "directory"},
  };
  const std::pair<const char*, const char*> bad_eps[] = {
      {"zero", "0"}, {"negative", "-0.5"},      {"nan", "nan"}, {"overflow", "1e999"}, {"text", "abc"},
      {"empty", ""}, {"two numbers", "0.1 0.2"}};
  for (auto [name, text] : bad_eps) {
    test::write_degrade_proxy(dir / name, 1.1f, text);
    cases.push_back(
        {"a bad eps", AntidistillMode::kDegrade, (dir / name).string(), StatusCode::kInvalidArgument, "eps"});
  }
  test::write_degrade_proxy(dir / "nominus", 1.1f, "0.01");
  fs::remove(dir / "nominus" / "minus.bin");
  cases.push_back({"a missing perturbed copy", AntidistillMode::kDegrade, (dir / "nominus").string(), StatusCode::kIo,
                   "minus.bin"});
  test::write_degrade_proxy(dir / "tinyplus", 1.1f, "0.01");
  fs::copy_file(dir / "tiny.bin", dir / "tinyplus" / "plus.bin", fs::copy_options::overwrite_existing);
  cases.push_back({"a perturbed copy of another vocabulary", AntidistillMode::kDegrade, (dir / "tinyplus").string(),
                   StatusCode::kInvalidArgument, "16 ids"});
  for (const Case& c : cases) {
    INFO(c.what << ": " << c.path);
    auto p = AntidistillProxy::open(c.mode, c.path, 512);
    REQUIRE_FALSE(p);
    CHECK(p.status().code() == c.code);
    CHECK(p.status().message().find(c.needle) != std::string::npos);
    CHECK(p.status().message().find('\n') == std::string::npos);
  }
  CHECK_FALSE(parse_antidistill_mode("poison"));
  CHECK(*parse_antidistill_mode("degrade") == AntidistillMode::kDegrade);
  CHECK(*parse_antidistill_mode("fingerprint") == AntidistillMode::kFingerprint);
  fs::remove_all(dir);
}
