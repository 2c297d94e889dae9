// The distillation simulator as a bench (RESULTS.md, "Radioactivity"): the reference model writes a KGW-watermarked
// corpus W and an unwatermarked corpus U; an n-gram student (interpolated Kneser-Ney) is trained on a mixture with a
// fraction rho of W; the student is then tested in reading mode (it reads W and predicts each next id) and in closed
// mode (it answers prompts cut from W; only contexts in the teacher filter built from W count). Prints one markdown
// table row per rho, and the p-value against the number of scored tuples.
//
//   telltale-distill-bench [--tokens T] [--order n] [--seed s]
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "distillation.hpp"
#include "radio/context_filter.hpp"
#include "radio/suspect_scorer.hpp"
#include "stats/tails.hpp"
#include "telltale/keyring.hpp"

namespace {

using namespace telltale;

KeyRing key_from(uint8_t seed) {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(seed + i * 3);
  return std::move(KeyRing::from_secret(secret)).value();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

template <typename T>
T value_or_die(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "distill-bench: %s: %s\n", what, r.status().message().c_str());
    std::exit(2);
  }
  return std::move(r).value();
}

struct ModeResult {
  radio::SuspectCounts counts;
  score::Evidence evidence;
  std::vector<std::pair<uint64_t, double>> curve;  // (scored tuples, log10 p) at powers of two
};

ModeResult score_records(const Detector& det, const radio::ContextFilter* filter,
                         const std::vector<radio::PredictionRecord>& records) {
  radio::SuspectRules rules;
  rules.filter = filter;
  auto scorer = value_or_die(radio::SuspectScorer::create(det, rules), "scorer");
  ModeResult out;
  uint64_t n = 0, green = 0, next = 256;
  const double gamma = det.null_model().p;
  for (const auto& r : records) {
    scorer.add(r, [&](const radio::ScoredTuple& t) {
      ++n;
      green += t.score > 0.5;
      if (n == next) {
        out.curve.emplace_back(n, stats::log10_from_ln(stats::log_binomial_sf(green, n, gamma)));
        next *= 2;
      }
    });
  }
  out.counts = scorer.counts();
  out.evidence = scorer.evidence();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t total = 100000;
  uint32_t order = 5;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--tokens") == 0)
      total = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--order") == 0)
      order = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (std::strcmp(argv[i], "--seed") == 0)
      seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  auto model =
      value_or_die(refmodel::Llama2cModel::load(TELLTALE_SHARED_DIR "/models/stories260K/stories260K.bin"), "model");
  const KeyRing keys = key_from(7);
  const SchemeParams params = default_params(SchemeKind::kKgw, 512);  // gamma 0.25, delta 2, h 4, left-hash
  auto hook = value_or_die(Hook::create(keys, params), "hook");
  auto det = value_or_die(Detector::create(keys, params), "detector");

  auto t0 = std::chrono::steady_clock::now();
  distill::TeacherOptions teacher;
  teacher.documents = static_cast<size_t>(total / 200 + 20);  // stories run ~250 tokens: W holds more than total
  // W and U on two threads, each with its own copy of the model.
  auto model2 =
      value_or_die(refmodel::Llama2cModel::load(TELLTALE_SHARED_DIR "/models/stories260K/stories260K.bin"), "model");
  Result<distill::Corpus> plain_r = Status::ok();
  std::thread other([&] {
    distill::TeacherOptions t = teacher;
    t.seed = seed * 1000003 + 500000;
    plain_r = distill::teacher_corpus(model2, nullptr, t);
  });
  teacher.seed = seed * 1000003;
  auto wm = value_or_die(distill::teacher_corpus(model, &hook, teacher), "teacher W");
  other.join();
  auto plain = value_or_die(std::move(plain_r), "teacher U");
  std::printf("teacher: W %zu docs / %llu tokens, U %zu docs / %llu tokens, %.1f s\n", wm.docs.size(),
              static_cast<unsigned long long>(wm.tokens), plain.docs.size(),
              static_cast<unsigned long long>(plain.tokens), seconds_since(t0));

  auto filter = value_or_die(radio::ContextFilter::create(det.window_size(), wm.tokens, 1e-3), "filter");
  for (const auto& d : wm.docs)
    for (size_t i = det.window_size(); i <= d.size(); ++i)
      filter.insert(std::span(d).subspan(i - det.window_size(), det.window_size()));
  std::printf("filter: %llu bits, %u probes, %llu windows, FPR %.2e\n", static_cast<unsigned long long>(filter.bits()),
              filter.probes(), static_cast<unsigned long long>(filter.inserted()), filter.false_positive_rate());

  // Reading mode reads the first `total` tokens' worth of W: every watermarked document a mixture can hold.
  distill::Corpus read_set;
  for (const auto& d : wm.docs) {
    if (read_set.tokens >= total) break;
    read_set.docs.push_back(d);
    read_set.tokens += d.size();
  }
  std::printf(
      "\nopen (all W): the student reads every watermarked document the teacher wrote (%llu tokens); open "
      "(trained W): only those in its training mixture; closed: it answers 8-token prompts cut from W with 128 "
      "sampled tokens, scored on contexts in the teacher filter.\n\n| rho | student tokens | open (all W): scored "
      "| green | log10 p | open (trained W): scored | green | log10 p | closed: scored | green | log10 p | "
      "seconds |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
      static_cast<unsigned long long>(read_set.tokens));
  std::vector<std::pair<double, std::array<ModeResult, 2>>> all;
  for (const double rho : {0.0, 0.01, 0.02, 0.05, 0.10, 0.50, 1.0}) {
    const auto t = std::chrono::steady_clock::now();
    auto mix = value_or_die(distill::mixture(wm, plain, rho, total), "mixture");
    auto student = value_or_die(distill::NgramStudent::train(mix.docs, order, 512, 1), "student");
    auto open = score_records(det, nullptr, distill::student_reads(student, read_set));
    auto closed = score_records(det, &filter, distill::student_answers(student, read_set, 8, 128, seed));
    distill::Corpus trained;  // the watermarked documents of the mixture: they come first
    for (size_t i = 0; i < mix.docs.size() && trained.tokens < static_cast<uint64_t>(rho * static_cast<double>(total));
         ++i) {
      trained.docs.push_back(mix.docs[i]);
      trained.tokens += mix.docs[i].size();
    }
    auto supervised = score_records(det, nullptr, distill::student_reads(student, trained));
    std::printf("| %.0f%% | %llu | %llu | %.4f | %.2f | %llu | %.4f | %.2f | %llu | %.4f | %.2f | %.1f |\n", rho * 100,
                static_cast<unsigned long long>(mix.tokens), static_cast<unsigned long long>(open.evidence.scored),
                open.evidence.favoured_fraction(), stats::log10_from_ln(open.evidence.log_p),
                static_cast<unsigned long long>(supervised.evidence.scored), supervised.evidence.favoured_fraction(),
                stats::log10_from_ln(supervised.evidence.log_p),
                static_cast<unsigned long long>(closed.evidence.scored), closed.evidence.favoured_fraction(),
                stats::log10_from_ln(closed.evidence.log_p), seconds_since(t));
    std::fflush(stdout);
    all.push_back({rho, {std::move(open), std::move(closed)}});
  }
  std::printf("\nlog10 p against scored tuples (first N tuples in input order)\n\n| rho | mode |");
  for (uint64_t n = 256; n <= (1u << 20); n *= 2) std::printf(" %llu |", static_cast<unsigned long long>(n));
  std::printf("\n");
  for (const auto& [rho, modes] : all) {
    for (int m = 0; m < 2; ++m) {
      std::printf("| %.0f%% | %s |", rho * 100, m == 0 ? "open" : "closed");
      for (const auto& [n, lp] : modes[m].curve) std::printf(" %.1f |", lp);
      std::printf("\n");
    }
  }
  return 0;
}
