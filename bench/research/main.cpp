// telltale-research-bench: detection power, robustness to edits and text quality of every scheme on the reference
// model, measured with the verifier's own scoring and exact p-values (verify/score), never re-implemented here.
// Writes power.csv, robustness.csv, quality.csv and checks.csv into --out; bench/run-all drives it and renders them.
// With --check it exits 1 when a statistical self-check fails (bounds derived in power_prediction.hpp; no timings).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "bench_corpus.hpp"
#include "bench_schemes.hpp"
#include "csv_table.hpp"
#include "input/tokenizer.hpp"
#include "llama2c_model.hpp"
#include "paraphrase_attack.hpp"
#include "power_prediction.hpp"
#include "score/document_scorer.hpp"
#include "score/tally.hpp"
#include "stats/multiple_testing.hpp"
#include "stats/tails.hpp"
#include "text_attacks.hpp"

namespace telltale::research {
namespace {

constexpr double kAlphas[] = {1e-2, 1e-4, 1e-6};
constexpr double kAttackAlpha = 1e-6;
constexpr double kCheckFailure = 1e-6;  // the chance that all self-checks together fail on a correct implementation

struct Options {
  std::string out;
  std::string model = TELLTALE_SHARED_DIR "/models/stories260K/stories260K.bin";
  std::string tokenizer = TELLTALE_SHARED_DIR "/models/stories260K/tok512.model";
  std::string human = TELLTALE_SHARED_DIR "/corpora/austen_6novels.txt";
  int docs = 40;
  int tokens = 1000;
  int attack_docs = 40;
  int attack_tokens = 300;
  int check_tokens = 200;
  uint64_t seed = 1;
  bool check = false;
};

// What every section needs: the model, the tokenizer, the key, the prompts and the human text.
struct Bench {
  Options options;
  input::Tokenizer tokenizer;
  refmodel::Llama2cModel model;
  KeyRing keys;
  std::vector<std::vector<int32_t>> prompts;
  std::string human;
  std::vector<std::string> human_words;
  std::vector<int32_t> piece_pool;  // ids that decode to plain ASCII text: what random token edits draw from
};

double log10_of(double ln) { return ln / std::log(10.0); }

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double rate(const std::vector<double>& log_p, double alpha) {
  if (log_p.empty()) return std::nan("");
  const double cut = std::log(alpha);
  return static_cast<double>(std::count_if(log_p.begin(), log_p.end(), [cut](double x) { return x <= cut; })) /
         static_cast<double>(log_p.size());
}

// The verifier's view of a text: tokenized, then scored once per unique (context, token) tuple.
Result<score::DocumentScore> score_text(score::DocumentScorer& scorer, const input::Tokenizer& tokenizer,
                                        const std::string& text) {
  std::vector<int32_t> ids;
  TT_RETURN_IF_ERROR(tokenizer.encode(text, ids));
  score::DocumentScore d;
  scorer.score(ids, 0, d);
  return d;
}

// The exact test of the first n scored tuples (what the verifier reports for the text cut after them).
score::Evidence prefix_evidence(const score::DocumentScore& d, size_t n, const NullModel& null) {
  score::Tally t;
  for (size_t i = 0; i < n; ++i) t.add(d.entries[i].score);
  return score::evaluate(t, null);
}

Result<std::string> decode(const Bench& b, std::span<const int32_t> ids) {
  return b.tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()));
}

// ---- power ----------------------------------------------------------------------------------------------------------

std::vector<size_t> power_grid(int tokens) {
  std::vector<size_t> grid;
  for (size_t n : {25, 50, 100, 150, 200, 300, 400, 600, 800, 1000})
    if (n <= static_cast<size_t>(tokens)) grid.push_back(n);
  return grid;
}

struct PrefixTests {
  std::vector<std::vector<double>> log_p;     // per grid length: ln p of each document long enough
  std::vector<std::vector<double>> favoured;  // and its favoured fraction
};

Result<PrefixTests> prefix_tests(const Bench& b, score::DocumentScorer& scorer, const std::vector<Document>& docs,
                                 const std::vector<size_t>& grid) {
  PrefixTests t{std::vector<std::vector<double>>(grid.size()), std::vector<std::vector<double>>(grid.size())};
  for (const Document& doc : docs) {
    auto text = decode(b, doc.tokens);
    if (!text) return text.status();
    auto d = score_text(scorer, b.tokenizer, *text);
    if (!d) return d.status();
    for (size_t g = 0; g < grid.size(); ++g) {
      if (d->entries.size() < grid[g]) continue;
      const score::Evidence e = prefix_evidence(*d, grid[g], scorer.null_model());
      t.log_p[g].push_back(e.log_p);
      t.favoured[g].push_back(e.favoured_fraction());
    }
  }
  return t;
}

Status power_rows(const Bench& b, const BenchScheme& s, score::DocumentScorer& scorer,
                  const std::vector<Document>& docs, const std::vector<Document>& twins, CsvTable& csv) {
  const std::vector<size_t> grid = power_grid(b.options.tokens);
  auto marked = prefix_tests(b, scorer, docs, grid);
  if (!marked) return marked.status();
  auto plain = prefix_tests(b, scorer, twins, grid);
  if (!plain) return plain.status();
  const double z4_alpha = std::exp(stats::normal_sf_log(4.0));
  for (size_t g = 0; g < grid.size(); ++g) {
    const auto& lp = marked->log_p[g];
    const auto& fav = marked->favoured[g];
    const double mean_favoured =
        fav.empty() ? std::nan("") : std::accumulate(fav.begin(), fav.end(), 0.0) / static_cast<double>(fav.size());
    csv.row({s.name, std::to_string(grid[g]), std::to_string(lp.size()), num(rate(lp, kAlphas[0])),
             num(rate(lp, kAlphas[1])), num(rate(lp, kAlphas[2])), num(rate(lp, z4_alpha)),
             std::to_string(plain->log_p[g].size()), num(rate(plain->log_p[g], kAlphas[0])),
             num(rate(plain->log_p[g], kAlphas[1])), num(log10_of(median(lp))), num(mean_favoured)});
  }
  return Status::ok();
}

// ---- robustness -----------------------------------------------------------------------------------------------------

struct Attack {
  std::string name;
  double level;  // the rate of an edit, the watermarked fraction (copy-paste), the kept fraction (truncation), or
                 // the words kept per sentence (paraphrase); 0 for the level-free ones
};

std::vector<Attack> attacks() {
  std::vector<Attack> out = {{"none", 0}};
  for (const char* name : {"token-substitution", "token-insertion", "token-deletion", "word-substitution"})
    for (double r : {0.05, 0.1, 0.2, 0.3, 0.5}) out.push_back({name, r});
  for (double f : {0.75, 0.5, 0.25, 0.1}) out.push_back({"copy-paste", f});
  for (const char* name : {"double-spaces", "newlines", "lowercase", "uppercase", "capitalized"})
    out.push_back({name, 0});
  for (double f : {0.75, 0.5, 0.25}) out.push_back({"truncation", f});
  for (double k : {0.0, 3.0}) out.push_back({"paraphrase", k});
  return out;
}

// `ids`' text placed in the middle of human prose, so that it makes `fraction` of the tokens.
Result<std::string> paste_into_human(const Bench& b, std::span<const int32_t> ids, double fraction, size_t doc) {
  const size_t human_ids =
      static_cast<size_t>(std::lround(static_cast<double>(ids.size()) * (1 - fraction) / fraction));
  const size_t chars = human_ids * 8 + 64;  // generous: English prose runs about 3-4 characters per id here
  size_t offset = (100000 + doc * 37813) % (b.human.size() - chars);
  offset = b.human.find(' ', offset) + 1;
  std::vector<int32_t> human;
  TT_RETURN_IF_ERROR(b.tokenizer.encode(std::string_view(b.human).substr(offset, chars), human));
  if (human.size() < human_ids) return invalid_argument("the human corpus ran short for copy-paste");
  auto before = decode(b, std::span(human).first(human_ids / 2));
  auto after = decode(b, std::span(human).subspan(human_ids / 2, human_ids - human_ids / 2));
  auto passage = decode(b, ids);
  if (!before || !after || !passage) return invalid_argument("decoding failed while pasting");
  return *before + "\n\n" + *passage + "\n\n" + *after;
}

Result<std::string> attacked_text(Bench& b, Paraphraser& paraphraser, const Attack& a, std::span<const int32_t> ids,
                                  size_t doc, uint64_t attack_index) {
  Rng rng(b.options.seed * 0x9E3779B97F4A7C15ull + doc * 1000003u + attack_index);
  const std::vector<int32_t> base(ids.begin(), ids.end());
  auto text = decode(b, ids);
  if (!text) return text.status();
  if (a.name == "none") return *text;
  if (a.name == "token-substitution") return decode(b, substitute_tokens(base, a.level, b.piece_pool, rng));
  if (a.name == "token-insertion") return decode(b, insert_tokens(base, a.level, b.piece_pool, rng));
  if (a.name == "token-deletion") return decode(b, delete_tokens(base, a.level, rng));
  if (a.name == "word-substitution") return substitute_words(*text, a.level, b.human_words, rng);
  if (a.name == "copy-paste") return paste_into_human(b, ids, a.level, doc);
  if (a.name == "double-spaces") return double_spaces(*text);
  if (a.name == "newlines") return newlines_for_spaces(*text);
  if (a.name == "lowercase") return lowercase(*text);
  if (a.name == "uppercase") return uppercase(*text);
  if (a.name == "capitalized") return capitalize_words(*text);
  if (a.name == "truncation")
    return decode(b, ids.first(static_cast<size_t>(std::lround(static_cast<double>(ids.size()) * a.level))));
  if (a.name == "paraphrase") {
    ParaphraseOptions p;
    p.keep_words = static_cast<int>(a.level);
    p.seed = b.options.seed * 7919u + doc;
    return paraphraser.rewrite(*text, p);
  }
  return invalid_argument("unknown attack " + a.name);
}

Status robustness_rows(Bench& b, const BenchScheme& s, const Detector& detector, const std::vector<Document>& docs,
                       CsvTable& csv) {
  score::ScoringRules rules;
  rules.window_min = 32;  // the verifier's passage search, as `telltale detect --window 32`
  auto scorer = score::DocumentScorer::create(detector, rules);
  if (!scorer) return scorer.status();
  Paraphraser paraphraser(b.model, b.tokenizer);
  const std::vector<Attack> list = attacks();
  const size_t n_docs = std::min(docs.size(), static_cast<size_t>(b.options.attack_docs));
  for (size_t ai = 0; ai < list.size(); ++ai) {
    std::vector<double> whole, verdict, scored;
    for (size_t d = 0; d < n_docs; ++d) {
      const auto& tokens = docs[d].tokens;
      const size_t n = std::min(tokens.size(), static_cast<size_t>(b.options.attack_tokens));
      auto text = attacked_text(b, paraphraser, list[ai], std::span(tokens).first(n), d, ai);
      if (!text) return text.status();
      auto r = score_text(*scorer, b.tokenizer, *text);
      if (!r) return r.status();
      const double w = score::evaluate(r->tally, scorer->null_model()).log_p;
      // The verdict of `telltale detect --window`: whole text and best window, Bonferroni over the two.
      const double v = r->window_searched ? stats::bonferroni_log(std::min(w, r->window.log_p_corrected), 2) : w;
      whole.push_back(w);
      verdict.push_back(v);
      scored.push_back(static_cast<double>(r->tally.scored));
    }
    csv.row({s.name, list[ai].name, num(list[ai].level), std::to_string(n_docs),
             num(std::accumulate(scored.begin(), scored.end(), 0.0) / static_cast<double>(n_docs)),
             num(rate(whole, kAttackAlpha)), num(rate(verdict, kAttackAlpha)), num(log10_of(median(verdict)))});
  }
  return Status::ok();
}

// ---- quality --------------------------------------------------------------------------------------------------------

struct QualityRow {
  uint64_t tokens = 0;
  double nll = 0, nll_se = 0, entropy = 0;
};

QualityRow quality(const std::vector<Document>& docs) {
  QualityRow row;
  double nll = 0, entropy = 0;
  std::vector<double> per_doc;
  for (const Document& doc : docs) {
    const double doc_nll = -std::accumulate(doc.model_log_prob.begin(), doc.model_log_prob.end(), 0.0);
    per_doc.push_back(doc_nll / static_cast<double>(doc.tokens.size()));
    nll += doc_nll;
    entropy += std::accumulate(doc.model_entropy.begin(), doc.model_entropy.end(), 0.0);
    row.tokens += doc.tokens.size();
  }
  row.nll = nll / static_cast<double>(row.tokens);
  row.entropy = entropy / static_cast<double>(row.tokens);
  const double mean = std::accumulate(per_doc.begin(), per_doc.end(), 0.0) / static_cast<double>(per_doc.size());
  double ss = 0;
  for (double x : per_doc) ss += (x - mean) * (x - mean);
  row.nll_se = std::sqrt(ss / static_cast<double>(per_doc.size() - 1) / static_cast<double>(per_doc.size()));
  return row;
}

void quality_row(CsvTable& csv, const std::string& name, size_t docs, const QualityRow& q, const QualityRow& base) {
  csv.row({name, std::to_string(docs), std::to_string(q.tokens), num(std::exp(q.nll)), num(q.nll), num(q.nll_se),
           num(std::exp(q.nll) / std::exp(base.nll)), num(q.entropy), num(q.entropy - base.entropy)});
}

// ---- self-checks ----------------------------------------------------------------------------------------------------

struct Check {
  std::string scheme, name;
  double observed = 0, bound = 0, expected = 0;
  bool pass = false;
};

// KGW on clean text: each document's first n scored tokens (the generated ids themselves, every step watermarked,
// no de-dup so that the tested tokens are exactly the steps whose green mass g_i the generator recorded). Given the
// g_i, the green count is (approximately: the g_i are themselves random) a Poisson binomial, so the document is
// detected at 1e-6 with probability pi_d = P(PB(g) >= k_crit); the number detected over independent documents is a
// Poisson binomial in the pi_d, and must not fall below its beta-quantile.
Result<Check> kgw_power_check(const BenchScheme& s, const Detector& detector, const std::vector<Document>& docs,
                              int n_tokens, double beta) {
  score::ScoringRules rules;
  rules.dedup = false;
  auto scorer = score::DocumentScorer::create(detector, rules);
  if (!scorer) return scorer.status();
  const size_t h = detector.window_size();
  const size_t n = static_cast<size_t>(n_tokens);
  const NullModel null = detector.null_model();
  const uint64_t k = critical_count(n, null.p, kAttackAlpha);
  std::vector<double> predicted;
  double detected = 0;
  for (const Document& doc : docs) {
    if (doc.tokens.size() < h + n) continue;
    const std::span<const double> g = std::span(doc.green_mass).subspan(h, n);
    if (std::any_of(g.begin(), g.end(), [](double x) { return std::isnan(x); })) continue;
    score::DocumentScore d;
    scorer->score(std::span(doc.tokens).first(h + n), 0, d);
    if (d.tally.scored != n) return invalid_argument("KGW check: the scorer did not score every token");
    detected += score::evaluate(d.tally, null).log_p <= std::log(kAttackAlpha) ? 1 : 0;
    predicted.push_back(poisson_binomial_sf(g, k));
  }
  Check c{s.name, "clean KGW documents detected at 1e-6 (first " + std::to_string(n) + " tokens) >= predicted"};
  c.observed = detected;
  c.expected = std::accumulate(predicted.begin(), predicted.end(), 0.0);
  c.bound = static_cast<double>(poisson_binomial_lower_bound(predicted, beta));
  c.pass = !predicted.empty() && c.observed >= c.bound;
  return c;
}

// Unwatermarked twins: exact p-values make P(p <= 1e-2) <= 1e-2 per document, so the count of false detections is
// at most Binomial(D, 1e-2) in distribution and must stay below its upper beta-quantile.
Result<Check> false_positive_check(const Bench& b, const BenchScheme& s, score::DocumentScorer& scorer,
                                   const std::vector<Document>& twins, double beta) {
  double false_hits = 0;
  for (const Document& doc : twins) {
    auto text = decode(b, doc.tokens);
    if (!text) return text.status();
    auto d = score_text(scorer, b.tokenizer, *text);
    if (!d) return d.status();
    false_hits += score::evaluate(d->tally, scorer.null_model()).log_p <= std::log(kAlphas[0]) ? 1 : 0;
  }
  Check c{s.name, "unwatermarked twins flagged at 1e-2 < bound"};
  c.observed = false_hits;
  c.expected = static_cast<double>(twins.size()) * kAlphas[0];
  c.bound = static_cast<double>(critical_count(twins.size(), kAlphas[0], beta));
  c.pass = c.observed < c.bound;
  return c;
}

// ---- driver ---------------------------------------------------------------------------------------------------------

Result<Bench> load_bench(const Options& o) {
  auto tokenizer = input::Tokenizer::load(o.tokenizer);
  if (!tokenizer) return tokenizer.status();
  auto model = refmodel::Llama2cModel::load(o.model);
  if (!model) return model.status();
  if (model->vocab_size() != tokenizer->vocab_size()) return invalid_argument("the model and tokenizer disagree");
  // A fixed, published bench key: results are reproducible, and no real key is ever involved.
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(0xB0 + i);
  auto keys = KeyRing::from_secret(secret);
  if (!keys) return keys.status();
  std::ifstream in(o.human, std::ios::binary);
  if (!in) return io_error(o.human + ": cannot open the human corpus");
  std::string human((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (human.size() < 1000000) return invalid_argument(o.human + ": the human corpus is too short (< 1 MB)");
  Bench b{o, std::move(tokenizer).value(), std::move(model).value(), std::move(keys).value(), {}, std::move(human), {},
          {}};
  for (const std::string& p : bench_prompts()) {
    std::vector<int32_t> ids;
    TT_RETURN_IF_ERROR(b.tokenizer.encode(p, ids));
    b.prompts.push_back(std::move(ids));
  }
  for (const std::string& w : split_words(std::string_view(b.human).substr(0, 1000000)))
    if (w[0] != ' ' && w[0] != '\n') b.human_words.push_back(w);
  for (int32_t id = 0; id < b.tokenizer.vocab_size(); ++id) {
    auto piece = b.tokenizer.decode(std::vector<int32_t>{id});
    if (piece && !piece->empty() &&
        std::all_of(piece->begin(), piece->end(), [](char c) { return c >= 0x20 && c < 0x7f; }))
      b.piece_pool.push_back(id);
  }
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const Options& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) return std::fprintf(stderr, "research-bench: %s: %s\n", o.out.c_str(), ec.message().c_str()), 2;
  auto loaded = load_bench(o);
  if (!loaded) return std::fprintf(stderr, "research-bench: %s\n", loaded.status().message().c_str()), 2;
  Bench& b = *loaded;
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [](const Status& s) { return std::fprintf(stderr, "research-bench: %s\n", s.message().c_str()), 2; };

  CorpusOptions corpus;
  corpus.documents = std::max(o.docs, o.attack_docs);
  corpus.tokens = std::max(o.tokens, o.attack_tokens);
  corpus.seed = o.seed;
  auto twins = generate_corpus(b.model, b.prompts, nullptr, corpus);
  if (!twins) return fail(twins.status());
  std::fprintf(stderr, "research-bench: %d unwatermarked documents of %d tokens (%.1f s)\n", corpus.documents,
               corpus.tokens, seconds_since(t0));
  const std::vector<Document> power_twins(twins->begin(), twins->begin() + o.docs);
  const QualityRow base_quality = quality(power_twins);

  CsvTable power(o.out + "/power.csv", {"scheme", "n_scored", "docs", "tpr_1e-2", "tpr_1e-4", "tpr_1e-6", "tpr_z4",
                                        "twins", "fpr_1e-2", "fpr_1e-4", "median_log10_p", "favoured_fraction"});
  CsvTable robust(o.out + "/robustness.csv", {"scheme", "attack", "level", "docs", "scored_mean", "detected_whole",
                                              "detected_window", "median_log10_p"});
  CsvTable qual(o.out + "/quality.csv", {"scheme", "docs", "tokens", "perplexity", "nll_mean", "nll_se",
                                         "perplexity_ratio", "entropy_mean", "entropy_delta"});
  if (!power.ok() || !robust.ok() || !qual.ok()) return fail(io_error(o.out + ": cannot write the CSV files"));
  quality_row(qual, "unwatermarked", power_twins.size(), base_quality, base_quality);

  const std::vector<BenchScheme> schemes = bench_schemes(static_cast<uint32_t>(b.tokenizer.vocab_size()));
  const size_t n_checks = schemes.size() + static_cast<size_t>(std::count_if(schemes.begin(), schemes.end(), is_kgw));
  const double beta = kCheckFailure / static_cast<double>(n_checks);
  std::vector<Check> checks;
  for (const BenchScheme& s : schemes) {
    auto hook = Hook::create(b.keys, s.params);
    if (!hook) return fail(hook.status());
    auto detector = Detector::create(b.keys, s.params);
    if (!detector) return fail(detector.status());
    auto docs = generate_corpus(b.model, b.prompts, &*hook, corpus);
    if (!docs) return fail(docs.status());
    auto scorer = score::DocumentScorer::create(*detector, {});
    if (!scorer) return fail(scorer.status());
    const std::vector<Document> power_docs(docs->begin(), docs->begin() + o.docs);
    if (Status st = power_rows(b, s, *scorer, power_docs, power_twins, power); !st.is_ok()) return fail(st);
    quality_row(qual, s.name, power_docs.size(), quality(power_docs), base_quality);
    if (Status st = robustness_rows(b, s, *detector, *docs, robust); !st.is_ok()) return fail(st);
    auto fp = false_positive_check(b, s, *scorer, power_twins, beta);
    if (!fp) return fail(fp.status());
    checks.push_back(*fp);
    if (is_kgw(s)) {
      auto c = kgw_power_check(s, *detector, power_docs, o.check_tokens, beta);
      if (!c) return fail(c.status());
      checks.push_back(*c);
    }
    std::fprintf(stderr, "research-bench: %s done (%.1f s)\n", s.name.c_str(), seconds_since(t0));
  }

  CsvTable check_csv(o.out + "/checks.csv", {"scheme", "check", "observed", "expected", "bound", "pass"});
  bool all_pass = true;
  for (const Check& c : checks) {
    check_csv.row({c.scheme, c.name, num(c.observed), num(c.expected), num(c.bound), c.pass ? "yes" : "NO"});
    std::printf("%-4s %-22s %s: observed %g, expected %.2f, bound %g\n", c.pass ? "ok" : "FAIL", c.scheme.c_str(),
                c.name.c_str(), c.observed, c.expected, c.bound);
    all_pass = all_pass && c.pass;
  }
  std::fprintf(stderr, "research-bench: wrote %s/{power,robustness,quality,checks}.csv (%.1f s)\n", o.out.c_str(),
               seconds_since(t0));
  return o.check && !all_pass ? 1 : 0;
}

}  // namespace
}  // namespace telltale::research

int main(int argc, char** argv) {
  telltale::research::Options o;
  CLI::App app{"telltale research bench: power, robustness and quality of every scheme on the reference model"};
  app.add_option("--out", o.out, "directory for the CSV files")->required();
  app.add_option("--docs", o.docs, "documents per scheme for power and quality")->check(CLI::Range(2, 100000));
  app.add_option("--tokens", o.tokens, "generated tokens per document")->check(CLI::Range(50, 100000));
  app.add_option("--attack-docs", o.attack_docs, "documents per scheme and attack")->check(CLI::Range(1, 100000));
  app.add_option("--attack-tokens", o.attack_tokens, "tokens of each attacked text")->check(CLI::Range(40, 100000));
  app.add_option("--check-tokens", o.check_tokens, "tokens per document in the KGW power check")
      ->check(CLI::Range(10, 100000));
  app.add_option("--seed", o.seed, "first generation seed");
  app.add_option("--model", o.model, "llama2.c model file");
  app.add_option("--tokenizer", o.tokenizer, "its SentencePiece model");
  app.add_option("--human", o.human, "human text for copy-paste and word substitution");
  app.add_flag("--check", o.check, "exit 1 when a statistical self-check fails");
  CLI11_PARSE(app, argc, argv);
  if (o.docs < 2 || o.check_tokens + 4 > o.tokens) {
    std::fprintf(stderr, "research-bench: --check-tokens must leave room for the context window in --tokens\n");
    return 2;
  }
  return telltale::research::run(o);
}
