// The model-aware bench of issue 24 (RESULTS.md "Model-aware detection and attribution"): on the reference model with
// each scheme's default parameters, texts of 200 generated tokens (re-tokenized from text, as a verifier sees them):
// detection at p < 1e-6 and tokens needed, plain against model-aware on the same texts; attribution among 25,000
// accounts at 100/200/400 tokens; the false-positive rate on human text. Prints markdown; run by hand:
//   build/bench/telltale-model-aware-bench [texts=60] [human=2000] [accounts=25000] [threads=2]
// The deltas mode (issue 24, item 4: the account delta's trade) attributes 200-token texts among `accounts` at each
// (shared delta, account delta) given, beside the texts' perplexity and the shared layer's detection:
//   build/bench/telltale-model-aware-bench deltas [texts=400] [human=200] [accounts=25000] [threads=1] 2:2 2:3 ...
#include <algorithm>
#include <array>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "attrib/account_registry.hpp"
#include "attrib/attribution_scan.hpp"
#include "bench_support.hpp"
#include "generator.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "model/position_weights.hpp"
#include "model/weighted_detection.hpp"
#include "score/document_scorer.hpp"
#include "score/tally.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"

using namespace telltale;

namespace {

using attrib::RankedAccount;
using bench::check;
using bench::die;

const std::string kShared = TELLTALE_SHARED_DIR;
const std::string kModel = kShared + "/models/stories260K/stories260K.bin";
const std::string kTokenizer = kShared + "/models/stories260K/tok512.model";
const std::vector<std::string> kPrompts = {"Once upon a time", "One day", "Lily and Ben", "The sun was", "Tom had a"};
constexpr double kLog1e6 = -13.815510557964274;  // ln 1e-6

double percent(size_t part, size_t whole) { return 100.0 * static_cast<double>(part) / static_cast<double>(whole); }
double ratio(size_t part, size_t whole) { return static_cast<double>(part) / static_cast<double>(whole); }

KeyRing key_of(uint8_t base) {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(base + 3 * i);
  return check(KeyRing::from_secret(secret));
}

// Runs f(i) for i in [0, n) on `threads` threads (each i once; f must be thread-safe across distinct i).
template <class F>
void parallel(size_t n, unsigned threads, F f) {
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (size_t i = t; i < n; i += threads) f(i, t);
    });
  for (auto& th : pool) th.join();
}

// Watermarked texts: `tokens` generated after a prompt (top-p 0.9, `telltale generate`'s defaults), run through
// decode and encode as a verifier reads them. account: the fingerprint's account of text i, else ignored. hook null:
// unwatermarked. nll (if set): per text, the generated ids' mean negative log-likelihood under the unwatermarked model
// (temperature 1, every id: the research bench's quality measure; perplexity = exp of its mean over the ids).
std::vector<std::vector<int32_t>> generate(const Hook* hook, const input::Tokenizer& tok, size_t n, int tokens,
                                           const std::vector<uint32_t>& accounts, unsigned threads,
                                           bool stop_at_end = false, std::vector<double>* nll = nullptr) {
  std::vector<std::vector<int32_t>> out(n);
  if (nll) nll->assign(n, 0.0);
  std::vector<refmodel::Llama2cModel> models;
  for (unsigned t = 0; t < threads; ++t) models.push_back(check(refmodel::Llama2cModel::load(kModel)));
  parallel(n, threads, [&](size_t i, unsigned t) {
    refmodel::Generator generator(models[t]);
    std::vector<int32_t> prompt;
    if (!tok.encode(kPrompts[i % kPrompts.size()], prompt).is_ok()) die("prompt");
    refmodel::GenerationOptions gen;
    gen.max_new_tokens = tokens;
    gen.stop_at_end = stop_at_end;
    gen.seed = 5000 + i;
    std::optional<SeqState> seq;
    if (hook) seq.emplace(check(hook->new_sequence(accounts.empty() ? 0 : accounts[i], gen.seed)));
    const auto g = check(generator.run(prompt, hook, seq ? &*seq : nullptr, gen));
    if (nll) {
      double sum = 0;
      for (const double lp : g.model_log_prob) sum -= lp;
      (*nll)[i] = sum / static_cast<double>(g.model_log_prob.size());
    }
    std::vector<int32_t> all = g.prompt;
    all.insert(all.end(), g.tokens.begin(), g.tokens.end());
    const std::string text = check(tok.decode(all));
    if (!tok.encode(text, out[i]).is_ok()) die("encode");
  });
  return out;
}

// Plain and model-aware ln p of one text under one detector, for its first `length` ids.
struct TwoTests {
  double plain = 0, weighted = 0;
};

model::WeightedDetection weighted_for(const Detector& d) {
  const Detector* one = &d;
  return check(model::WeightedDetection::create(std::span(&one, 1), true));
}

class TextTester {
 public:
  TextTester(const Detector& d, model::WeightKind kind)
      : scorer_(check(score::DocumentScorer::create(d, {}))),
        weighted_(weighted_for(d)),
        weigher_(check(model::PositionWeigher::create(kModel, 512, {kind, 1.0, 0.9}, model::is_red_green(d.params()),
                                                      model::detection_shape(d.params())))),
        null_(d.null_model()) {}
  void weigh(std::span<const int32_t> ids) { weigher_.weigh(ids, weights_); }
  TwoTests test(std::span<const int32_t> ids, size_t length) {
    const auto prefix = ids.first(std::min(length, ids.size()));
    score::DocumentScore s;
    scorer_.score(prefix, 0, s);
    TwoTests r;
    r.plain = score::evaluate(s.tally, null_).log_p;
    r.weighted = weighted_.add_document(prefix, 0, std::span(weights_).first(prefix.size())).by_key[0].log_p;
    return r;
  }

 private:
  score::DocumentScorer scorer_;
  model::WeightedDetection weighted_;
  model::PositionWeigher weigher_;
  NullModel null_;
  std::vector<uint32_t> weights_;
};

std::string median_text(std::vector<double> v, size_t n) {
  if (v.size() * 2 <= n) return "> 200 (half not reached)";
  std::sort(v.begin(), v.end());
  v.resize(n, 1e9);  // texts that never reached it count as more than any
  std::sort(v.begin(), v.end());
  const double m = v[n / 2];
  return m >= 1e9 ? "> 200" : std::to_string(static_cast<int>(m));
}

void detection_rows(const input::Tokenizer& tok, size_t texts, unsigned threads) {
  std::printf("\n#### Detection of 200-token texts at p < 1e-6 (same texts, plain vs model-aware)\n\n");
  std::printf(
      "| scheme (defaults) | weights | texts | detected plain | detected model-aware | median log10 p plain | "
      "median log10 p model-aware | median tokens to 1e-6 plain | model-aware |\n|---|---|---|---|---|---|---|"
      "---|---|\n");
  const KeyRing key = key_of(17);
  // KGW twice: exactly 200 tokens, and stories that stop where the model ends them (at most 200; what a user of
  // `telltale generate -n 200` gets).
  const std::array<std::pair<SchemeKind, bool>, 4> runs = {{{SchemeKind::kKgw, false},
                                                            {SchemeKind::kKgw, true},
                                                            {SchemeKind::kGumbel, false},
                                                            {SchemeKind::kTournament, false}}};
  for (const auto& [kind, stop] : runs) {
    const SchemeParams params = default_params(kind, 512);
    const Hook hook = check(Hook::create(key, params));
    const Detector det = check(Detector::create(key, params));
    const auto docs = generate(&hook, tok, texts, 200, {}, threads, stop);
    size_t mean_length = 0;
    for (const auto& d : docs) mean_length += d.size();
    mean_length /= texts;
    std::vector<model::WeightKind> weight_kinds = {model::WeightKind::kExpectedGain};
    if (kind == SchemeKind::kKgw && !stop) weight_kinds.push_back(model::WeightKind::kSpikeEntropy);
    for (const model::WeightKind wk : weight_kinds) {
      std::vector<TwoTests> full(texts);
      std::vector<double> need_plain(texts, 1e9), need_weighted(texts, 1e9);
      std::vector<std::unique_ptr<TextTester>> testers;
      for (unsigned t = 0; t < threads; ++t) testers.push_back(std::make_unique<TextTester>(det, wk));
      parallel(texts, threads, [&](size_t i, unsigned t) {
        TextTester& tt = *testers[t];
        tt.weigh(docs[i]);
        full[i] = tt.test(docs[i], docs[i].size());
        for (size_t len = 20; len <= docs[i].size() + 19; len += 20) {
          const TwoTests r = tt.test(docs[i], len);
          const double at = static_cast<double>(std::min(len, docs[i].size()));
          if (r.plain <= kLog1e6 && need_plain[i] > at) need_plain[i] = at;
          if (r.weighted <= kLog1e6 && need_weighted[i] > at) need_weighted[i] = at;
          if (need_plain[i] < 1e9 && need_weighted[i] < 1e9) break;
        }
      });
      size_t hit_plain = 0, hit_weighted = 0;
      std::vector<double> lp, lw, np, nw;
      for (size_t i = 0; i < texts; ++i) {
        hit_plain += full[i].plain <= kLog1e6;
        hit_weighted += full[i].weighted <= kLog1e6;
        lp.push_back(full[i].plain / std::log(10.0));
        lw.push_back(full[i].weighted / std::log(10.0));
        if (need_plain[i] < 1e9) np.push_back(need_plain[i]);
        if (need_weighted[i] < 1e9) nw.push_back(need_weighted[i]);
      }
      std::sort(lp.begin(), lp.end());
      std::sort(lw.begin(), lw.end());
      const std::string label = std::string(scheme_name(kind)) + (stop ? ", stories stop at their end" : "") +
                                " (mean " + std::to_string(mean_length) + " ids)";
      std::printf("| %s | %s | %zu | %zu (%.0f%%) | %zu (%.0f%%) | %.1f | %.1f | %s | %s |\n", label.c_str(),
                  model::weight_kind_name(wk), texts, hit_plain, percent(hit_plain, texts), hit_weighted,
                  percent(hit_weighted, texts), lp[texts / 2], lw[texts / 2], median_text(np, texts).c_str(),
                  median_text(nw, texts).c_str());
      std::fflush(stdout);
    }
  }
}

std::pair<double, double> clopper_pearson95(size_t count, size_t n) {
  const double c = static_cast<double>(count), m = static_cast<double>(n);
  return {count == 0 ? 0.0 : boost::math::ibeta_inv(c, m - c + 1, 0.025),
          count == n ? 1.0 : boost::math::ibeta_inv(c + 1, m - c, 0.975)};
}

std::vector<std::vector<int32_t>> human_passages(const input::Tokenizer& tok, size_t n, size_t length) {
  input::InputOptions in;
  in.split = input::TextSplit::kParagraph;
  auto source = check(input::DocumentSource::open({kShared + "/corpora/austen_6novels.txt"}, in));
  std::vector<int32_t> buffer, ids;
  input::Document doc;
  std::vector<std::vector<int32_t>> out;
  while (out.size() < n && check(source.next(doc))) {
    if (!tok.encode(doc.text, ids).is_ok()) die("encode");
    buffer.insert(buffer.end(), ids.begin(), ids.end());
    if (buffer.size() >= length) {
      out.emplace_back(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(length));
      buffer.clear();  // passages never share text
    }
  }
  return out;
}

void human_rows(const input::Tokenizer& tok, size_t n, unsigned threads) {
  const auto passages = human_passages(tok, n, 200);
  const SchemeParams params = default_params(SchemeKind::kKgw, 512);
  const Detector det = check(Detector::create(key_of(17), params));
  std::vector<TwoTests> r(passages.size());
  std::vector<std::unique_ptr<TextTester>> testers;
  for (unsigned t = 0; t < threads; ++t)
    testers.push_back(std::make_unique<TextTester>(det, model::WeightKind::kExpectedGain));
  parallel(passages.size(), threads, [&](size_t i, unsigned t) {
    testers[t]->weigh(passages[i]);
    r[i] = testers[t]->test(passages[i], passages[i].size());
  });
  std::printf("\n#### False positives on human text (Austen, %zu passages of 200 tokens, KGW defaults, one key)\n\n",
              passages.size());
  std::printf("| test | p <= 1e-2 | rate [95%% CI] | p <= 1e-3 | rate [95%% CI] |\n|---|---|---|---|---|\n");
  for (const bool weighted : {false, true}) {
    size_t c2 = 0, c3 = 0;
    for (const TwoTests& t : r) {
      const double lp = weighted ? t.weighted : t.plain;
      c2 += lp <= std::log(1e-2);
      c3 += lp <= std::log(1e-3);
    }
    const auto [l2, u2] = clopper_pearson95(c2, r.size());
    const auto [l3, u3] = clopper_pearson95(c3, r.size());
    std::printf("| %s | %zu | %.4f [%.4f, %.4f] | %zu | %.4f [%.4f, %.4f] |\n", weighted ? "model-aware" : "plain", c2,
                ratio(c2, r.size()), l2, u2, c3, ratio(c3, r.size()), l3, u3);
  }
  std::fflush(stdout);
}

void attribution_rows(const input::Tokenizer& tok, size_t texts, size_t accounts, size_t human, unsigned threads) {
  const KeyRing key = key_of(29);
  const SchemeParams params = default_params(SchemeKind::kFingerprint, 512);
  const Hook hook = check(Hook::create(key, params));
  const Detector det = check(Detector::create(key, params));
  const std::vector<uint32_t> ids = bench::distinct_random_ids(accounts, 7);
  const attrib::AccountRegistry registry = check(attrib::AccountRegistry::from_ids(ids));
  std::vector<uint32_t> active(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(texts));
  const auto docs = generate(&hook, tok, texts, 400, active, threads);
  const auto people = human_passages(tok, human, 200);
  std::printf("\n#### Attribution among %zu accounts (fingerprint defaults, alpha 1e-3, Holm over the registry)\n\n",
              accounts);
  std::printf(
      "| tokens | texts | attributed plain | model-aware | wrong account plain | model-aware | human passages "
      "(200 tokens) accusing plain | model-aware |\n|---|---|---|---|---|---|---|---|\n");
  for (const size_t length : {size_t{100}, size_t{200}, size_t{400}}) {
    std::array<size_t, 2> right{}, wrong{}, accusing{};
    for (const bool weighted : {false, true}) {
      attrib::AttributionOptions options;
      options.weighted = weighted;
      std::vector<std::array<bool, 2>> out(texts + (length == 200 ? people.size() : 0));
      std::vector<std::unique_ptr<model::PositionWeigher>> weighers;
      std::vector<std::unique_ptr<attrib::AttributionScan>> scans;
      for (unsigned t = 0; t < threads; ++t) {
        weighers.push_back(std::make_unique<model::PositionWeigher>(
            check(model::PositionWeigher::create(kModel, 512, {}, true, model::account_shape(params)))));
        scans.push_back(
            std::make_unique<attrib::AttributionScan>(check(attrib::AttributionScan::create(det, registry, options))));
      }
      parallel(out.size(), threads, [&](size_t i, unsigned t) {
        const bool person = i >= texts;
        const std::vector<int32_t>& d = person ? people[i - texts] : docs[i];
        const auto prefix = std::span(d).first(std::min(length, d.size()));
        std::vector<uint32_t> w;
        if (weighted) weighers[t]->weigh(prefix, w);
        const auto& r = scans[t]->add_document(prefix, 0, "", w).result;
        for (size_t k = 0; k < r.attributed; ++k) {
          if (!person && r.ranked[k].account == active[i])
            out[i][0] = true;
          else
            out[i][1] = true;
        }
      });
      for (size_t i = 0; i < out.size(); ++i) {
        if (i < texts) {
          right[weighted] += out[i][0];
          wrong[weighted] += out[i][1];
        } else {
          accusing[weighted] += out[i][1];
        }
      }
    }
    const std::string h0 = length == 200 ? std::to_string(accusing[0]) + " of " + std::to_string(people.size()) : "-";
    const std::string h1 = length == 200 ? std::to_string(accusing[1]) + " of " + std::to_string(people.size()) : "-";
    std::printf("| %zu | %zu | %zu (%.0f%%) | %zu (%.0f%%) | %zu | %zu | %s | %s |\n", length, texts, right[0],
                percent(right[0], texts), right[1], percent(right[1], texts), wrong[0], wrong[1], h0.c_str(),
                h1.c_str());
    std::fflush(stdout);
  }
}

// Mean and standard error of per-text values.
std::pair<double, double> mean_se(const std::vector<double>& v) {
  double mean = 0, ss = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (const double x : v) ss += (x - mean) * (x - mean);
  return {mean, std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()))};
}

std::string rate_text(size_t count, size_t n) {
  const auto [lo, hi] = clopper_pearson95(count, n);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%zu (%.1f%%) [%.1f, %.1f]", count, percent(count, n), 100 * lo, 100 * hi);
  return buf;
}

// One (shared delta, account delta) configuration of the fingerprint scheme (or, account delta < 0, plain KGW at the
// shared delta; shared delta < 0: no watermark).
struct DeltaConfig {
  float shared = 2, account = 2;
};

// The account delta's trade: `texts` fingerprinted texts of 200 generated tokens per configuration, each for another
// registered account, attributed (plain and model-aware) on their whole re-tokenized ids; the shared layer detected
// at 1e-6 (plain and model-aware); `human` passages against the registry; and the perplexity of the texts.
void delta_rows(const input::Tokenizer& tok, size_t texts, size_t human, size_t accounts, unsigned threads,
                const std::vector<DeltaConfig>& configs) {
  const KeyRing key = key_of(29);
  const std::vector<uint32_t> ids = bench::distinct_random_ids(accounts, 7);
  const attrib::AccountRegistry registry = check(attrib::AccountRegistry::from_ids(ids));
  const std::vector<uint32_t> active(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(texts));
  const auto people = human_passages(tok, human, 200);
  std::printf(
      "\n#### Account delta against attribution and perplexity (%zu texts of 200 generated tokens per row, %zu "
      "accounts, alpha 1e-3)\n\n",
      texts, accounts);
  std::printf(
      "| scheme | shared delta | account delta | mean ids | attributed plain [95%% CP] | attributed model-aware [95%% "
      "CP] | wrong account (plain, model-aware) | human passages accusing (plain, model-aware) | shared layer at 1e-6 "
      "plain | model-aware | perplexity | mean NLL +- SE |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const DeltaConfig& c : configs) {
    const bool watermarked = c.shared >= 0;
    const bool fingerprint = watermarked && c.account >= 0;
    SchemeParams params = default_params(fingerprint ? SchemeKind::kFingerprint : SchemeKind::kKgw, 512);
    if (watermarked) params.kgw.delta = c.shared;
    if (fingerprint) params.fingerprint.account_delta = c.account;
    std::optional<Hook> hook;
    if (watermarked) hook.emplace(check(Hook::create(key, params)));
    std::vector<double> nll;
    const auto docs = generate(hook ? &*hook : nullptr, tok, texts, 200, active, threads, false, &nll);
    size_t mean_ids = 0;
    for (const auto& d : docs) mean_ids += d.size();
    mean_ids /= texts;
    const auto [nll_mean, nll_se] = mean_se(nll);
    const std::string scheme = !watermarked ? "none" : fingerprint ? "fingerprint" : "kgw";
    std::string cells = "- | - | - | -";
    std::string detect_cells = "- | -";
    if (watermarked) {
      const Detector det = check(Detector::create(key, params));
      // The shared (zero-bit) layer: plain and model-aware at 1e-6 on the same ids.
      std::vector<TwoTests> zero(texts);
      std::vector<std::unique_ptr<TextTester>> testers;
      for (unsigned t = 0; t < threads; ++t)
        testers.push_back(std::make_unique<TextTester>(det, model::WeightKind::kExpectedGain));
      parallel(texts, threads, [&](size_t i, unsigned t) {
        testers[t]->weigh(docs[i]);
        zero[i] = testers[t]->test(docs[i], docs[i].size());
      });
      size_t zp = 0, zw = 0;
      for (const TwoTests& z : zero) {
        zp += z.plain <= kLog1e6;
        zw += z.weighted <= kLog1e6;
      }
      detect_cells = rate_text(zp, texts) + " | " + rate_text(zw, texts);
    }
    if (fingerprint) {
      const Detector det = check(Detector::create(key, params));
      std::array<size_t, 2> right{}, wrong{}, accusing{};
      for (const bool weighted : {false, true}) {
        attrib::AttributionOptions options;
        options.weighted = weighted;
        std::vector<std::array<bool, 2>> out(texts + people.size());
        std::vector<std::unique_ptr<model::PositionWeigher>> weighers;
        std::vector<std::unique_ptr<attrib::AttributionScan>> scans;
        for (unsigned t = 0; t < threads; ++t) {
          weighers.push_back(
              std::make_unique<model::PositionWeigher>(check(model::scheme_weigher(kModel, 512, {}, params, true))));
          scans.push_back(std::make_unique<attrib::AttributionScan>(
              check(attrib::AttributionScan::create(det, registry, options))));
        }
        parallel(out.size(), threads, [&](size_t i, unsigned t) {
          const bool person = i >= texts;
          const std::vector<int32_t>& d = person ? people[i - texts] : docs[i];
          std::vector<uint32_t> w;
          if (weighted) weighers[t]->weigh(d, w);
          const auto& r = scans[t]->add_document(d, 0, "", w).result;
          for (size_t k = 0; k < r.attributed; ++k) {
            const RankedAccount& a = r.ranked[k];
            const bool right_one = !person && a.account == active[i];
            out[i][right_one ? 0 : 1] = true;
            // Every false accusation, on stderr: which text, which account, how strongly, and by which tail.
            if (!right_one) {
              std::fprintf(stderr,
                           "false accusation: %s %zu (account %u), accused %u, matches %llu of %llu, log10 p %.3f, "
                           "after Holm %.3f, %s, %s\n",
                           person ? "human passage" : "text", person ? i - texts : i, person ? 0u : active[i],
                           a.account, static_cast<unsigned long long>(a.matches),
                           static_cast<unsigned long long>(r.scored), a.log_p / std::log(10.0),
                           a.log_p_adjusted / std::log(10.0), weighted ? "model-aware" : "plain",
                           r.exact ? "exact" : "Chernoff");
            }
          }
        });
        for (size_t i = 0; i < out.size(); ++i) {
          (i < texts ? right : accusing)[weighted] += i < texts ? out[i][0] : out[i][1];
          if (i < texts) wrong[weighted] += out[i][1];
        }
      }
      cells = rate_text(right[0], texts) + " | " + rate_text(right[1], texts) + " | " + std::to_string(wrong[0]) +
              ", " + std::to_string(wrong[1]) + " | " + std::to_string(accusing[0]) + ", " +
              std::to_string(accusing[1]) + " of " + std::to_string(people.size());
    }
    const std::string shared = watermarked ? std::to_string(c.shared).substr(0, 4) : "-";
    const std::string account = fingerprint ? std::to_string(c.account).substr(0, 4) : "-";
    std::printf("| %s | %s | %s | %zu | %s | %s | %.3f | %.4f +- %.4f |\n", scheme.c_str(), shared.c_str(),
                account.c_str(), mean_ids, cells.c_str(), detect_cells.c_str(), std::exp(nll_mean), nll_mean, nll_se);
    std::fflush(stdout);
  }
}

// "2:3" = shared delta 2, account delta 3; "2:-" = KGW at delta 2; "-" = no watermark.
DeltaConfig parse_config(const std::string& s) {
  if (s == "-") return {-1, -1};
  const size_t colon = s.find(':');
  if (colon == std::string::npos) die("a configuration is shared:account, shared:- or -");
  const std::string account = s.substr(colon + 1);
  return {std::strtof(s.substr(0, colon).c_str(), nullptr),
          account == "-" ? -1.0f : std::strtof(account.c_str(), nullptr)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "deltas") {
    const size_t texts = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 400;
    const size_t human = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 200;
    const size_t accounts = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 25000;
    const unsigned threads = argc > 5 ? static_cast<unsigned>(std::strtoul(argv[5], nullptr, 10)) : 1;
    std::vector<DeltaConfig> configs;
    for (int i = 6; i < argc; ++i) configs.push_back(parse_config(argv[i]));
    if (configs.empty()) configs = {{-1, -1}, {2, -1}, {2, 2}, {2, 2.5f}, {2, 3}};
    if (texts < 2 || accounts < texts || threads < 1) die("bad arguments");
    const input::Tokenizer tok = check(input::Tokenizer::load(kTokenizer));
    delta_rows(tok, texts, human, accounts, threads, configs);
    return 0;
  }
  const size_t texts = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 60;
  const size_t human = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2000;
  const size_t accounts = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 25000;
  const unsigned threads = argc > 4 ? static_cast<unsigned>(std::strtoul(argv[4], nullptr, 10)) : 2;
  if (texts < 2 || human < 1 || accounts < texts || threads < 1) die("bad arguments");
  const input::Tokenizer tok = check(input::Tokenizer::load(kTokenizer));
  detection_rows(tok, texts, threads);
  human_rows(tok, human, threads);
  attribution_rows(tok, texts, accounts, std::min<size_t>(human, 500), threads);
  return 0;
}
