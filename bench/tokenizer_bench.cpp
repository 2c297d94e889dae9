// telltale-tokenizer-bench: tokens per second per core for each tokenizer given, on a corpus read as the verifier
// reads it (2000-byte documents): the tokenizer alone (uncached), the tokenizer through the exact piece cache, and
// end to end (read, tokenize, score with KGW, de-duplicate) with the cache off and on, at 1 and 2 threads.
//   telltale-tokenizer-bench CORPUS NAME=TOKENIZER... (RESULTS.md "Production tokenizers")
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "input/document_source.hpp"
#include "input/ids_kept.hpp"
#include "input/tokenizer.hpp"
#include "score/corpus_scanner.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"

namespace {

using namespace telltale;
using Clock = std::chrono::steady_clock;

constexpr int kRepetitions = 3;  // the fastest of three: noise on a shared machine only ever adds time

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

input::InputOptions input_options() {
  input::InputOptions in;
  in.max_document_bytes = 2000;
  return in;
}

std::vector<std::string> documents(const std::string& corpus) {
  auto source = input::DocumentSource::from_memory("corpus.txt", corpus, input::InputFormat::kText, input_options());
  std::vector<std::string> docs;
  input::Document doc;
  while (true) {
    auto more = source->next(doc);
    if (!more || !*more) break;
    docs.push_back(doc.text);
  }
  return docs;
}

// Seconds for the fastest of kRepetitions runs of `fn`.
template <typename Fn>
double fastest(Fn&& fn) {
  double best = 1e300;
  for (int r = 0; r < kRepetitions; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

// Tokenizer alone, one thread, every document; returns the token count through `tokens`.
double encode_all(const input::Tokenizer& tok, const std::vector<std::string>& docs, bool cached, uint64_t& tokens) {
  std::vector<int32_t> ids;
  return fastest([&] {
    tokens = 0;
    for (const std::string& d : docs) {
      const Status s = cached ? tok.encode(d, ids) : tok.encode_uncached(d, ids);
      if (!s.is_ok()) std::fprintf(stderr, "encode failed: %s\n", s.message().c_str());
      tokens += ids.size();
    }
  });
}

// End to end through the verifier's scanner, `threads` workers; scored tokens through `tokens`.
double scan_all(const input::Tokenizer& tok, const std::string& corpus, unsigned threads, uint64_t& tokens) {
  std::array<uint8_t, kMasterSecretBytes> secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
  const KeyRing keys = std::move(KeyRing::from_secret(secret)).value();
  auto det = Detector::create(keys, default_params(SchemeKind::kKgw, static_cast<uint32_t>(tok.vocab_size())));
  const Detector* dets[] = {&*det};
  score::ScanOptions options;
  options.threads = threads;
  auto scanner = score::CorpusScanner::create(&tok, dets, {}, options);
  return fastest([&] {
    auto source = input::DocumentSource::from_memory("corpus.txt", corpus, input::InputFormat::kText, input_options());
    std::vector<score::PartialResult> results;
    results.emplace_back(score::analysis_info(*det, "bench", {}, ""));
    uint64_t n = 0;
    const Status s =
        scanner->run(*source, results,
                     [&n](const input::Document&, std::span<const score::DocumentScore> sc) { n += sc[0].tokens; });
    if (!s.is_ok()) std::fprintf(stderr, "scan failed: %s\n", s.message().c_str());
    tokens = n;
  });
}

// What decode -> re-encode keeps of ids a model might emit, for sequences of 200 ids drawn uniformly from the whole
// vocabulary (ids that decode to nothing left out): the worst case, a model emitting non-canonical splits at every
// step. kept: the share of ids (longest common subsequence) that come back, over the sequences whose text is valid
// UTF-8; refused: the sequences whose text is not (byte-level pieces cut through a character), which the verifier
// refuses as it refuses any invalid UTF-8. Fixed seed.
struct Kept {
  double kept = 0;
  int refused = 0;
  int sequences = 0;
};
Kept ids_kept_random(const input::Tokenizer& tok) {
  std::mt19937_64 rng(5);
  size_t kept = 0, total = 0;
  Kept k;
  std::vector<int32_t> again;
  for (; k.sequences < 20; ++k.sequences) {
    std::vector<int32_t> ids;
    while (ids.size() < 200) {
      const auto id = static_cast<int32_t>(rng() % static_cast<uint64_t>(tok.vocab_size()));
      const int32_t one[] = {id};
      auto piece = tok.decode(one);
      if (piece && !piece->empty()) ids.push_back(id);
    }
    auto text = tok.decode(ids);
    if (!text || !tok.encode(*text, again).is_ok()) {
      ++k.refused;
      continue;
    }
    kept += input::ids_kept(ids, again);
    total += ids.size();
  }
  k.kept = total == 0 ? 0.0 : static_cast<double>(kept) / static_cast<double>(total);
  return k;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: telltale-tokenizer-bench CORPUS NAME=TOKENIZER...\n");
    return 2;
  }
  const std::string corpus = read_file(argv[1]);
  const auto docs = documents(corpus);
  std::printf("corpus %s: %zu bytes, %zu documents of at most 2000 bytes; fastest of %d runs\n", argv[1], corpus.size(),
              docs.size(), kRepetitions);
  std::printf("%-10s %7s %6s | %9s %9s %6s | %9s %9s %6s | %9s %9s | cache\n", "tokenizer", "vocab", "tok/B", "alone",
              "cached", "x", "e2e 1t", "e2e 1t c", "x", "e2e 2t", "e2e 2t c");
  std::printf("%-10s %7s %6s | %9s %9s %6s | %9s %9s %6s | %9s %9s |\n", "", "", "", "M tok/s", "M tok/s", "",
              "M tok/s", "M tok/s", "", "/core", "/core");
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "expected NAME=TOKENIZER, got %s\n", arg.c_str());
      return 2;
    }
    auto tok = input::Tokenizer::load(arg.substr(eq + 1));
    if (!tok) {
      std::fprintf(stderr, "%s\n", tok.status().message().c_str());
      return 2;
    }
    const bool can_cache = tok->piece_cache();
    uint64_t n_alone = 0, n_cached = 0, n_scan = 0;
    const double alone = encode_all(*tok, docs, false, n_alone);
    const double cached = can_cache ? encode_all(*tok, docs, true, n_cached) : alone;
    double e2e[2][2];  // [threads - 1][cache]
    for (unsigned threads = 1; threads <= 2; ++threads) {
      for (int c = 0; c < 2; ++c) {
        tok->set_piece_cache(c == 1);
        const double seconds = scan_all(*tok, corpus, threads, n_scan);
        e2e[threads - 1][c] = static_cast<double>(n_scan) / (seconds * threads) / 1e6;  // per core
      }
    }
    const double m_alone = static_cast<double>(n_alone) / alone / 1e6;
    const double m_cached = static_cast<double>(can_cache ? n_cached : n_alone) / cached / 1e6;
    std::printf("%-10s %7d %6.3f | %9.2f %9.2f %6.1f | %9.2f %9.2f %6.1f | %9.2f %9.2f | %s\n",
                arg.substr(0, eq).c_str(), tok->vocab_size(),
                static_cast<double>(n_alone) / static_cast<double>(corpus.size()), m_alone, m_cached,
                m_cached / m_alone, e2e[0][0], e2e[0][1], e2e[0][1] / m_alone, e2e[1][0], e2e[1][1],
                can_cache ? "on" : ("off: " + tok->piece_cache_off_reason()).c_str());
    const Kept k = ids_kept_random(*tok);
    std::printf("%-10s decode -> encode of uniformly random ids: %.1f%% kept; %d of %d sequences not valid UTF-8\n",
                arg.substr(0, eq).c_str(), 100.0 * k.kept, k.refused, k.sequences);
    std::fflush(stdout);
  }
  return 0;
}
