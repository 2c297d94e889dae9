// spec/test-vectors.json, the verifier's sections: the unkeyed tuple fingerprint, the context filter's sizing and
// probes, the tournament weights and the statistics at fixed inputs (ln p within spec/statistics.md 1's accuracy).
#include <cstdio>
#include <iterator>
#include <set>

#include "attrib/account_evidence.hpp"
#include "attrib/account_registry.hpp"
#include "attrib/attribution.hpp"
#include "radio/context_filter.hpp"
#include "score/tuple_hash.hpp"
#include "stats/multiple_testing.hpp"
#include "stats/tails.hpp"
#include "stats/windowed.hpp"
#include "telltale/fingerprint.hpp"
#include "vectors_test_support.hpp"

using nlohmann::json;
using namespace telltale;
using namespace telltale::test;

TEST_CASE("mum and tuple_hash match the vectors, negative ids and odd windows included", "[vectors]") {
  const json v = load_vectors();
  for (const auto& e : v["hashes"]["mum"]) {
    CHECK(score::mum(from_hex64(e["a"]), from_hex64(e["b"])) == from_hex64(e["mum"]));
  }
  size_t lengths_seen = 0;
  for (const auto& e : v["hashes"]["tuple_hash"]) {
    const auto w = e["window"].get<std::vector<int32_t>>();
    CHECK(score::tuple_hash(w, e["token"].get<int32_t>()) == from_hex64(e["hash"]));
    lengths_seen |= size_t{1} << w.size();
  }
  CHECK(lengths_seen == 0x23f);  // windows of 0 to 5 and 9 ids: every remainder mod 4, and the 4-id loop twice
}

TEST_CASE("the tournament weights are round(linspace(10, 1, m)) with halves toward the smaller weight", "[vectors]") {
  const json v = load_vectors();
  REQUIRE(v["statistics"]["tournament_weights"].size() == 32);
  for (const auto& e : v["statistics"]["tournament_weights"]) {
    const uint32_t m = e["layers"];
    const auto w = e["weights"].get<std::vector<uint32_t>>();
    REQUIRE(w.size() == m);
    for (uint32_t l = 0; l < m; ++l) CHECK(tournament_weight(l, m) == w[l]);
  }
  CHECK(v["statistics"]["tournament_weights"][6]["weights"] == json({10, 8, 7, 5, 4, 2, 1}));
}

TEST_CASE("binomial and gamma tails at fixed inputs match the vectors within the stated accuracy", "[vectors]") {
  const json st = load_vectors()["statistics"];
  for (const auto& e : st["binomial_sf"]) {
    INFO("k " << e["k"] << " n " << e["n"]);
    CHECK(ln_p_close(stats::log_binomial_sf(e["k"], e["n"], e["p"]), e["ln_p"]));
  }
  for (const auto& e : st["binomial_cdf"]) {
    CHECK(ln_p_close(stats::log_binomial_cdf(e["k"], e["n"], e["p"]), e["ln_p"]));
  }
  for (const auto& e : st["gamma_sf"]) {
    INFO("x " << e["x"] << " shape " << e["shape"]);
    CHECK(ln_p_close(stats::log_gamma_sf(e["x"], e["shape"]), e["ln_p"]));
  }
  for (const auto& e : st["gamma_cdf"]) CHECK(ln_p_close(stats::log_gamma_cdf(e["x"], e["shape"]), e["ln_p"]));
}

TEST_CASE("the weighted-Bernoulli DP, its cost and its Chernoff bound match the vectors", "[vectors]") {
  const json st = load_vectors()["statistics"];
  for (const auto& e : st["weighted_bernoulli"]) {
    const auto counts = e["count_by_weight"].get<std::vector<uint64_t>>();
    const uint64_t t = e["threshold"];
    INFO("threshold " << t);
    const double exact = stats::log_weighted_bernoulli_sf(counts, t);
    const double bound = stats::log_weighted_bernoulli_sf_bound(counts, t);
    CHECK(ln_p_close(exact, e["ln_p"]));
    CHECK(stats::weighted_bernoulli_sf_cost(counts, t) == e["cost"].get<double>());
    CHECK(ln_p_close(bound, e["ln_p_bound"]));
    CHECK(bound >= exact);
  }
}

TEST_CASE("Bonferroni and Holm adjust the vectors' ln p as listed", "[vectors]") {
  const json st = load_vectors()["statistics"];
  for (const auto& e : st["bonferroni"]) {
    CHECK(ln_p_close(stats::bonferroni_log(e["ln_p"], e["m"]), e["adjusted"]));
  }
  for (const auto& e : st["holm"]) {
    const auto lp = e["ln_p"].get<std::vector<double>>();
    const auto got = stats::holm_adjust_log(lp);
    const auto want = e["adjusted"].get<std::vector<double>>();
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(ln_p_close(got[i], want[i]));
  }
}

TEST_CASE("the window grid and the best binomial and gamma windows match the vectors", "[vectors]") {
  const json st = load_vectors()["statistics"];
  for (const auto& e : st["window_lengths"]) {
    stats::WindowSearchOptions o;
    o.min_length = e["min_length"];
    o.max_length = e["max_length"];
    o.length_ratio = e["ratio"];
    CHECK(stats::window_lengths(e["n"], o) == e["lengths"].get<std::vector<uint64_t>>());
  }
  auto check_match = [](const stats::WindowMatch& got, const json& want) {
    CHECK(got.start == want["start"].get<uint64_t>());
    CHECK(got.length == want["length"].get<uint64_t>());
    CHECK(got.statistic == want["statistic"].get<double>());
    CHECK(got.windows_tried == want["windows_tried"].get<uint64_t>());
    CHECK(got.lengths_tried == want["lengths_tried"].get<uint64_t>());
    CHECK(ln_p_close(got.log_p, want["log_p"]));
    CHECK(ln_p_close(got.log_p_corrected, want["log_p_corrected"]));
  };
  const json& b = st["binomial_window"];
  stats::WindowSearchOptions o;
  o.min_length = b["min_length"];
  o.length_ratio = b["ratio"];
  check_match(stats::find_best_binomial_window(b["hits"].get<std::vector<uint8_t>>(), b["gamma"], o), b["match"]);
  const json& g = st["gamma_window"];
  o.min_length = g["min_length"];
  o.length_ratio = g["ratio"];
  check_match(stats::find_best_gamma_window(g["scores"].get<std::vector<double>>(), o), g["match"]);
}

TEST_CASE("the context filter's size, probe count and probed bits match the vectors", "[vectors]") {
  const json h = load_vectors()["hashes"];
  for (const auto& e : h["filter_sizes"]) {
    auto f = radio::ContextFilter::create(4, e["expected_contexts"], e["target_fpr"]);
    REQUIRE(f);
    CHECK(f->bits() == e["bits"].get<uint64_t>());
    CHECK(f->probes() == e["probes"].get<uint32_t>());
  }
  const std::string path = std::string(kBinaryDir) + "/vectors_filter_probe.ttctx";
  for (const auto& e : h["filter_probes"]) {
    const auto w = e["window"].get<std::vector<int32_t>>();
    CHECK(radio::context_hash(w) == from_hex64(e["fingerprint"]));
    auto f = radio::ContextFilter::create(static_cast<uint32_t>(w.size()), e["expected_contexts"], e["target_fpr"]);
    REQUIRE(f);
    REQUIRE(f->bits() == e["bits"].get<uint64_t>());
    f->insert(w);
    std::filesystem::remove(path);  // a filter file is never overwritten
    REQUIRE(f->write(path));
    // The words follow the 40-byte header: bit i of the filter is bit (i mod 64) of little-endian word i / 64.
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() == 40 + f->bits() / 8 + 32);
    std::set<uint64_t> set_bits;
    for (uint64_t i = 0; i < f->bits(); ++i) {
      if ((bytes[40 + i / 8] >> (i % 8)) & 1) set_bits.insert(i);
    }
    const auto positions = e["positions"].get<std::vector<uint64_t>>();
    CHECK(positions.size() == e["probes"].get<size_t>());
    CHECK(set_bits == std::set<uint64_t>(positions.begin(), positions.end()));
  }
  std::remove(path.c_str());
}

TEST_CASE("fingerprint attribution of fixed marks gives the vectors' matches, theta and ranking", "[vectors]") {
  const json e = load_vectors()["fingerprint_attribution"];
  const auto ids = e["registry"].get<std::vector<uint32_t>>();
  auto registry = attrib::AccountRegistry::from_ids(ids);
  REQUIRE(registry);
  attrib::AccountEvidence evidence;
  for (uint32_t m : e["marks"].get<std::vector<uint32_t>>()) evidence.add(m);
  std::vector<uint64_t> matches;
  evidence.matches(*registry, matches);
  CHECK(matches == e["matches"].get<std::vector<uint64_t>>());
  // The Walsh-Hadamard decoding equals counting the codeword agreements directly.
  const auto marks = e["marks"].get<std::vector<uint32_t>>();
  for (size_t a = 0; a < ids.size(); ++a) {
    uint64_t direct = 0;
    for (uint32_t m : marks) direct += fingerprint_codeword_bit(ids[a], m >> 1) == (m & 1);
    CHECK(direct == matches[a]);
  }
  const double theta = attrib::null_match_bound(static_cast<float>(e["account_delta"].get<double>()));
  CHECK(theta == e["theta"].get<double>());
  attrib::AttributionOptions options;
  options.alpha = e["alpha"];
  options.top = e["top"];
  const attrib::Attribution a = attrib::attribute(evidence, *registry, theta, options);
  CHECK(a.scored == e["scored"].get<uint64_t>());
  CHECK(a.family == e["family"].get<uint64_t>());
  REQUIRE(a.ranked.size() == e["ranked"].size());
  for (size_t i = 0; i < a.ranked.size(); ++i) {
    const json& r = e["ranked"][i];
    CHECK(a.ranked[i].account == r["account"].get<uint32_t>());
    CHECK(a.ranked[i].matches == r["matches"].get<uint64_t>());
    CHECK(ln_p_close(a.ranked[i].log_p, r["log_p"]));
    CHECK(ln_p_close(a.ranked[i].log_p_adjusted, r["log_p_adjusted"]));
    CHECK(a.ranked[i].attributed == r["attributed"].get<bool>());
  }
}
