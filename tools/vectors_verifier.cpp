// Test-vector sections on the verifier at fixed inputs: tuple fingerprints, the context filter, the statistics and
// fingerprint attribution (spec/prf.md 8.2, spec/statistics.md 5).
#include "attrib/account_evidence.hpp"
#include "attrib/account_registry.hpp"
#include "attrib/attribution.hpp"
#include "radio/context_filter.hpp"
#include "score/tuple_hash.hpp"
#include "stats/multiple_testing.hpp"
#include "stats/tails.hpp"
#include "stats/windowed.hpp"
#include "telltale/fingerprint.hpp"
#include "vectors.hpp"

using nlohmann::json;

namespace telltale::vectors {
namespace {

json hashes() {
  json out;
  const std::pair<uint64_t, uint64_t> mums[] = {
      {0, 0}, {1, 1}, {0xffffffffffffffffull, 0xffffffffffffffffull}, {0xa0761d6478bd642full, 0x74656c6c74616c65ull}};
  for (const auto& [a, b] : mums) {
    out["mum"].push_back({{"a", hex64(a)}, {"b", hex64(b)}, {"mum", hex64(score::mum(a, b))}});
  }
  const std::vector<std::pair<std::vector<int32_t>, int32_t>> tuples = {{{}, 0},
                                                                        {{}, -1},
                                                                        {{7}, 42},
                                                                        {{7, 8}, 42},
                                                                        {{7, 8, 9}, 42},
                                                                        {{7, 8, 9, 10}, 42},
                                                                        {{7, 8, 9, 10, 11}, 42},
                                                                        {{1, 2, 3, 4, 5, 6, 7, 8, 9}, 10},
                                                                        {{11, 12, 13, 14}, -1},
                                                                        {{-1, -2, 151936, 2147483647}, -2147483647 - 1},
                                                                        {{0, 0, 0}, 0},
                                                                        {{0, 0, 0, 0}, 0}};
  for (const auto& [w, t] : tuples) {
    out["tuple_hash"].push_back({{"window", w}, {"token", t}, {"hash", hex64(score::tuple_hash(w, t))}});
  }
  return out;
}

// The filter's bit positions for fingerprint f, by the formula of spec/radioactivity.md 4.1 (the test reads them back
// from a filter file the library writes).
std::vector<uint64_t> probe_positions(uint64_t f, uint64_t bits, uint32_t probes) {
  __extension__ typedef unsigned __int128 U128;
  const uint64_t step = score::mum(f ^ 0x9e3779b97f4a7c15ull, 0xd6e8feb86659fd93ull) | 1;
  std::vector<uint64_t> out;
  uint64_t g = f;
  for (uint32_t i = 0; i < probes; ++i, g += step) {
    out.push_back(static_cast<uint64_t>((static_cast<U128>(g) * bits) >> 64));
  }
  return out;
}

Result<json> filters() {
  json out;
  const std::pair<uint64_t, double> sizes[] = {{1000, 1e-3}, {1, 0.5},         {0, 0.01},  {1000000, 0.2},
                                               {37, 1e-9},   {10000000, 1e-3}, {10, 1e-30}};
  for (const auto& [n, fpr] : sizes) {
    auto f = radio::ContextFilter::create(4, n, fpr);
    if (!f) return f.status();
    out["filter_sizes"].push_back(
        {{"expected_contexts", n}, {"target_fpr", fpr}, {"bits", f->bits()}, {"probes", f->probes()}});
  }
  auto f = radio::ContextFilter::create(4, 1000, 1e-3);
  if (!f) return f.status();
  for (const std::vector<int32_t>& w : {std::vector<int32_t>{11, 12, 13, 14}, std::vector<int32_t>{0, 0, 0, 0},
                                        std::vector<int32_t>{-1, 151935, 7, 2147483647}}) {
    const uint64_t h = radio::context_hash(w);
    out["filter_probes"].push_back({{"window", w},
                                    {"fingerprint", hex64(h)},
                                    {"expected_contexts", 1000},
                                    {"target_fpr", 1e-3},
                                    {"bits", f->bits()},
                                    {"probes", f->probes()},
                                    {"positions", probe_positions(h, f->bits(), f->probes())}});
  }
  return out;
}

json tails() {
  json out;
  struct Bin {
    uint64_t k, n;
    double p;
  };
  for (const Bin& b : {Bin{7, 10, 0.25}, Bin{26, 50, 0.25}, Bin{60, 100, 0.25}, Bin{3000, 10000, 0.25},
                       Bin{520, 1000, 0.5}, Bin{1, 1, 0.3000030517578125}, Bin{40000000, 100000000, 0.3999}}) {
    out["binomial_sf"].push_back({{"k", b.k}, {"n", b.n}, {"p", b.p}, {"ln_p", stats::log_binomial_sf(b.k, b.n, b.p)}});
    out["binomial_cdf"].push_back(
        {{"k", b.k}, {"n", b.n}, {"p", b.p}, {"ln_p", stats::log_binomial_cdf(b.k, b.n, b.p)}});
  }
  const std::pair<double, double> gammas[] = {{5, 1},         {1.345610351335003, 1}, {30, 10}, {150, 100},
                                              {10500, 10000}, {2000, 1000},           {0.5, 3}};
  for (const auto& [x, shape] : gammas) {
    out["gamma_sf"].push_back({{"x", x}, {"shape", shape}, {"ln_p", stats::log_gamma_sf(x, shape)}});
    out["gamma_cdf"].push_back({{"x", x}, {"shape", shape}, {"ln_p", stats::log_gamma_cdf(x, shape)}});
  }
  return out;
}

// The histogram of N tuples' g-values at m layers under tournament_weight (spec/statistics.md section 2).
std::vector<uint64_t> weight_histogram(uint32_t layers, uint64_t tuples) {
  std::vector<uint64_t> h(11, 0);
  for (uint32_t l = 0; l < layers; ++l) h[tournament_weight(l, layers)] += tuples;
  return h;
}

json weighted() {
  json out;
  for (uint32_t m = 1; m <= 32; ++m) {
    std::vector<uint32_t> w;
    for (uint32_t l = 0; l < m; ++l) w.push_back(tournament_weight(l, m));
    out["tournament_weights"].push_back({{"layers", m}, {"weights", w}});
  }
  struct Case {
    std::vector<uint64_t> counts;
    uint64_t threshold;
  };
  const std::vector<Case> cases = {{weight_histogram(30, 4), 500},
                                   {weight_histogram(30, 10), 1100},
                                   {weight_histogram(7, 10), 250},
                                   {weight_histogram(12, 3), 120},
                                   {{0, 3, 0, 2}, 7},
                                   {{0, 0, 4, 0, 6}, 20},
                                   {weight_histogram(30, 200), 18000}};
  for (const Case& c : cases) {
    out["weighted_bernoulli"].push_back(
        {{"count_by_weight", c.counts},
         {"threshold", c.threshold},
         {"ln_p", stats::log_weighted_bernoulli_sf(c.counts, c.threshold)},
         {"cost", stats::weighted_bernoulli_sf_cost(c.counts, c.threshold)},
         {"ln_p_bound", stats::log_weighted_bernoulli_sf_bound(c.counts, c.threshold)}});
  }
  return out;
}

json corrections() {
  json out;
  for (const auto& [lp, m] : {std::pair<double, uint64_t>{-20.0, 1}, {-20.0, 1000}, {-3.0, 100}, {-1e4, 7}}) {
    out["bonferroni"].push_back({{"ln_p", lp}, {"m", m}, {"adjusted", stats::bonferroni_log(lp, m)}});
  }
  const std::vector<std::vector<double>> families = {
      {-10.0, -2.0, -30.0, -0.1}, {-5.0, -5.0, -5.0}, {-1.0}, {-50.0, -49.0, -3.0, -2.9, -1e-3}};
  for (const auto& f : families) out["holm"].push_back({{"ln_p", f}, {"adjusted", stats::holm_adjust_log(f)}});
  return out;
}

json window_json(const stats::WindowMatch& m) {
  return {{"start", m.start},
          {"length", m.length},
          {"statistic", m.statistic},
          {"log_p", m.log_p},
          {"log_p_corrected", m.log_p_corrected},
          {"windows_tried", m.windows_tried},
          {"lengths_tried", m.lengths_tried}};
}

json windows() {
  json out;
  struct Grid {
    uint64_t n, min, max;
    double ratio;
  };
  for (const Grid& g : {Grid{100, 16, 0, 1.05}, Grid{1000, 16, 0, 1.05}, Grid{50, 5, 20, 1.0}, Grid{40, 3, 0, 1.3},
                        Grid{10, 16, 0, 1.05}}) {
    stats::WindowSearchOptions o;
    o.min_length = g.min;
    o.max_length = g.max;
    o.length_ratio = g.ratio;
    out["window_lengths"].push_back({{"n", g.n},
                                     {"min_length", g.min},
                                     {"max_length", g.max},
                                     {"ratio", g.ratio},
                                     {"lengths", stats::window_lengths(g.n, o)}});
  }
  // 120 positions: sparse hits with a dense planted run at 50..79.
  std::vector<uint8_t> hits(120);
  for (size_t i = 0; i < hits.size(); ++i) hits[i] = (i >= 50 && i < 80) ? (i % 5 != 0) : (i % 4 == 1);
  stats::WindowSearchOptions o;
  o.min_length = 8;
  o.length_ratio = 1.2;
  out["binomial_window"] = {{"hits", hits},
                            {"gamma", 0.25},
                            {"min_length", o.min_length},
                            {"ratio", o.length_ratio},
                            {"match", window_json(stats::find_best_binomial_window(hits, 0.25, o))}};
  std::vector<double> scores(80);
  for (uint32_t i = 0; i < scores.size(); ++i) {
    scores[i] = (i >= 30 && i < 50) ? 2.5 + 0.125 * static_cast<double>(i % 3) : 0.25 * static_cast<double>(i % 5);
  }
  out["gamma_window"] = {{"scores", scores},
                         {"min_length", o.min_length},
                         {"ratio", o.length_ratio},
                         {"match", window_json(stats::find_best_gamma_window(scores, o))}};
  return out;
}

// Attribution from fixed marks: 300 contexts at positions (2654435761 k mod 2^32) >> 16, carrying account 77's bit
// except every fourth, which carries the other bit; a registry of five accounts, account delta 2.
Result<json> attribution() {
  std::vector<uint32_t> marks;
  for (uint32_t k = 0; k < 300; ++k) {
    const uint32_t position = (k * 2654435761u) >> 16;
    const unsigned bit = fingerprint_codeword_bit(77, position) ^ (k % 4 == 0 ? 1u : 0u);
    marks.push_back(position << 1 | bit);
  }
  const std::vector<uint32_t> ids = {0, 77, 78, 0x01020304u, 0xffffffffu};
  auto registry = attrib::AccountRegistry::from_ids(ids);
  if (!registry) return registry.status();
  attrib::AccountEvidence evidence;
  for (uint32_t m : marks) evidence.add(m);
  std::vector<uint64_t> matches;
  evidence.matches(*registry, matches);
  const float delta = 2.0f;
  const double theta = attrib::null_match_bound(delta);
  attrib::AttributionOptions options;
  const attrib::Attribution a = attrib::attribute(evidence, *registry, theta, options);
  json ranked;
  for (const attrib::RankedAccount& r : a.ranked) {
    ranked.push_back({{"account", r.account},
                      {"matches", r.matches},
                      {"log_p", r.log_p},
                      {"log_p_adjusted", r.log_p_adjusted},
                      {"attributed", r.attributed}});
  }
  return json{{"marks", marks},     {"registry", ids},    {"account_delta", static_cast<double>(delta)},
              {"theta", theta},     {"matches", matches}, {"alpha", options.alpha},
              {"top", options.top}, {"scored", a.scored}, {"family", a.family},
              {"ranked", ranked}};
}

}  // namespace

Status add_verifier_sections(json& out) {
  auto attributed = attribution();
  if (!attributed) return attributed.status();
  out["fingerprint_attribution"] = *attributed;
  out["hashes"] = hashes();
  auto filter = filters();
  if (!filter) return filter.status();
  out["hashes"].update(*filter);
  json st = tails();
  for (const auto& part : {weighted(), corrections(), windows()}) st.update(part);
  out["statistics"] = st;
  return Status::ok();
}

}  // namespace telltale::vectors
