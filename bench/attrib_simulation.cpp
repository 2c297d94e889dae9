// The attribution simulation of issue 5 (RESULTS.md "Account attribution"): documents of 100, 200 and 400 tokens
// generated with the fingerprint hook by the reference model for `active` accounts of a registry of `accounts`,
// re-tokenized from text as a verifier sees them, interleaved with human documents of the same lengths, attributed
// at alpha per document (Holm over the registry) and over the corpus (Holm over every (document, account) pair).
// Prints the rates; not a test (minutes of generation), run by hand:
//   build/bench/telltale-attrib-simulation [active=300] [accounts=25000] [account_delta=2] [threads=2]
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
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
#include "score/document_scorer.hpp"
#include "score/tally.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"

using namespace telltale;

namespace {

struct Doc {
  std::vector<int32_t> ids;
  int64_t account = -1;  // -1: human
  size_t length = 0;
};

using bench::check;
using bench::die;

}  // namespace

int main(int argc, char** argv) {
  const size_t active = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 300;
  const size_t accounts = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 25000;
  const float account_delta = argc > 3 ? std::strtof(argv[3], nullptr) : 2.0f;
  const unsigned threads = argc > 4 ? static_cast<unsigned>(std::strtoul(argv[4], nullptr, 10)) : 2;
  const double alpha = 1e-3;
  const std::array<size_t, 3> lengths = {100, 200, 400};
  const std::string shared = TELLTALE_SHARED_DIR;
  const std::string model_dir = shared + "/models/stories260K";

  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(3 * i + 11);
  const KeyRing keys = check(KeyRing::from_secret(secret));
  SchemeParams params = default_params(SchemeKind::kFingerprint, 512);
  params.fingerprint.account_delta = account_delta;
  const Hook hook = check(Hook::create(keys, params));
  const Detector det = check(Detector::create(keys, params));
  const input::Tokenizer tokenizer = check(input::Tokenizer::load(model_dir + "/tok512.model"));

  const std::vector<uint32_t> ids = bench::distinct_random_ids(accounts, 7);
  const attrib::AccountRegistry registry = check(attrib::AccountRegistry::from_ids(ids));
  std::vector<uint32_t> active_ids(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(active));

  // Watermarked documents: one per (active account, length), prompts varied.
  const std::vector<std::string> prompts = {"Once upon a time", "One day", "Lily and Ben", "The sun was", "Tom had a"};
  std::vector<Doc> docs(active * lengths.size());
  std::mutex mu;
  auto work = [&](unsigned t) {
    auto model = check(refmodel::Llama2cModel::load(model_dir + "/stories260K.bin"));
    refmodel::Generator generator(model);
    for (size_t k = t; k < docs.size(); k += threads) {
      const size_t a = k / lengths.size();
      const size_t length = lengths[k % lengths.size()];
      std::vector<int32_t> prompt;
      if (!tokenizer.encode(prompts[k % prompts.size()], prompt).is_ok()) die("prompt");
      refmodel::GenerationOptions gen;
      gen.max_new_tokens = static_cast<int>(length);
      gen.stop_at_end = false;
      gen.top_p = 1.0f;
      gen.seed = 1000 + k;
      auto seq = check(hook.new_sequence(active_ids[a], gen.seed));
      auto out = check(generator.run(prompt, &hook, &seq, gen));
      auto text = check(tokenizer.decode(out.tokens));
      Doc d;
      d.account = active_ids[a];
      d.length = length;
      if (!tokenizer.encode(text, d.ids).is_ok()) die("encode");
      std::lock_guard<std::mutex> lock(mu);
      docs[k] = std::move(d);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
  for (auto& th : pool) th.join();

  // Human documents of the same lengths, cut from Austen and Shakespeare.
  input::InputOptions in;
  in.split = input::TextSplit::kParagraph;
  auto source = check(input::DocumentSource::open(
      {shared + "/corpora/austen_6novels.txt", shared + "/corpora/tinyshakespeare.txt"}, in));
  std::vector<int32_t> buffer, tok;
  input::Document doc;
  std::vector<Doc> human;
  size_t next_length = 0;
  while (human.size() < active * lengths.size()) {
    if (!check(source.next(doc))) break;
    if (!tokenizer.encode(doc.text, tok).is_ok()) die("encode");
    buffer.insert(buffer.end(), tok.begin(), tok.end());
    const size_t length = lengths[next_length % lengths.size()];
    if (buffer.size() >= length) {
      human.push_back(
          {std::vector<int32_t>(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(length)), -1, length});
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(length));
      ++next_length;
    }
  }

  // The mixed corpus: generated and human documents interleaved in a fixed shuffled order.
  std::vector<Doc> corpus = docs;
  corpus.insert(corpus.end(), human.begin(), human.end());
  std::shuffle(corpus.begin(), corpus.end(), std::mt19937_64(99));

  auto scan = check(attrib::AttributionScan::create(det, registry, {alpha, 3}));
  SchemeParams kgw_params = params;
  kgw_params.scheme = SchemeKind::kKgw;
  const Detector kgw = check(Detector::create(keys, kgw_params));  // the plain detector, unchanged
  auto scorer = check(score::DocumentScorer::create(kgw, {}));
  score::Tally kgw_all;
  struct Row {
    size_t docs = 0, correct = 0, wrong_docs = 0, human = 0, human_accusing = 0, corpus_correct = 0;
    double scored = 0;
  };
  std::map<size_t, Row> rows;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const Doc& d = corpus[i];
    const auto& r = scan.add_document(d.ids, 0, std::to_string(i));
    Row& row = rows[d.length];
    bool right = false, wrong = false;
    for (size_t k = 0; k < r.result.attributed; ++k) {
      if (static_cast<int64_t>(r.result.ranked[k].account) == d.account)
        right = true;
      else
        wrong = true;
    }
    if (d.account >= 0) {
      ++row.docs;
      row.correct += right;
      row.wrong_docs += wrong;
      row.scored += static_cast<double>(r.result.scored);
    } else {
      ++row.human;
      row.human_accusing += wrong;
    }
    score::DocumentScore s;
    scorer.score(d.ids, 0, s);
    kgw_all.add(s.tally);
  }
  const attrib::CorpusAttribution c = scan.finish();
  size_t corpus_wrong = 0;
  std::set<uint32_t> truly_active(active_ids.begin(), active_ids.end());
  for (const auto& a : c.accusations) {
    if (a.pooled) {
      if (!truly_active.count(a.account)) ++corpus_wrong;
      continue;
    }
    const Doc& d = corpus[std::stoul(a.label)];
    if (static_cast<int64_t>(a.account) == d.account)
      ++rows[d.length].corpus_correct;
    else
      ++corpus_wrong;
  }
  const auto zero = score::evaluate(kgw_all, kgw.null_model());
  std::printf("registry %zu accounts, %zu active, account delta %.1f, alpha %g; %zu generated + %zu human documents\n",
              accounts, active, static_cast<double>(account_delta), alpha, docs.size(), human.size());
  std::printf(
      "| length | generated docs | mean scored contexts | attributed correctly (doc, Holm over registry) | "
      "doc with a wrong account | correct after corpus Holm | human docs | human docs accusing |\n");
  for (const auto& [length, r] : rows) {
    std::printf("| %zu | %zu | %.1f | %zu (%.1f%%) | %zu | %zu (%.1f%%) | %zu | %zu |\n", length, r.docs,
                r.scored / static_cast<double>(r.docs), r.correct,
                100.0 * static_cast<double>(r.correct) / static_cast<double>(r.docs), r.wrong_docs, r.corpus_correct,
                100.0 * static_cast<double>(r.corpus_correct) / static_cast<double>(r.docs), r.human, r.human_accusing);
  }
  size_t pooled_right = 0;
  for (const auto& a : c.accusations) pooled_right += a.pooled && truly_active.count(a.account);
  std::printf(
      "corpus: %zu accusations after Holm over %llu hypotheses, %zu of an innocent account; pooled test "
      "accused %zu active accounts\n",
      c.accusations.size(), static_cast<unsigned long long>(c.family), corpus_wrong, pooled_right);
  std::printf("zero-bit layer, plain KGW detector over the whole mixture: %llu tuples, log10 p = %.1f\n",
              static_cast<unsigned long long>(kgw_all.scored), zero.log_p / std::log(10.0));
  return 0;
}
