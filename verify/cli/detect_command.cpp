// `telltale detect`: was this text produced with our key? Streams the inputs through the verifier library and
// prints JSON (a summary; with --per-doc one line per document first). Exit 0 detected, 1 not detected, 2 error.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/bundle.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/html_report.hpp"
#include "evidence/record.hpp"
#include "evidence/signing_key.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "score/corpus_scanner.hpp"
#include "score/detection.hpp"
#include "score/partial_file.hpp"
#include "score/report_json.hpp"
#include "run_context.hpp"
#include "summary_output.hpp"

namespace telltale::cli {
namespace {

struct DetectOptions {
  std::vector<std::string> keys;
  std::vector<std::string> expect_key_ids;
  std::string tokenizer;
  std::string expect_tokenizer_sha256;
  std::vector<std::string> inputs;
  std::string field;
  std::string split = "file";
  std::string prompt;
  std::string emit_partial;
  std::string bundle;
  std::string signing_key;
  double alpha = 1e-3;
  bool per_doc = false;
  bool skip_bad = false;
  bool no_dedup = false;
  bool quiet = false;
  unsigned threads = 1;
  uint64_t window = 0;
  SchemeOptions scheme;
};

// Sum of the sizes of the regular files among the inputs (directories walked), for the ETA; 0 when unknown (stdin).
uint64_t total_input_bytes(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (const std::string& p : inputs) {
    if (p == "-") return 0;
    if (fs::is_regular_file(p, ec)) {
      total += fs::file_size(p, ec);
    } else if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file(ec)) total += it->file_size(ec);
      }
    }
  }
  return total;
}

// Progress on stderr, at most every two seconds and only once a run has taken two seconds.
class ProgressMeter {
 public:
  ProgressMeter(bool enabled, uint64_t total_bytes) : enabled_(enabled), total_(total_bytes) {}
  void update(const score::ScanProgress& p) {
    if (!enabled_) return;
    const double t = seconds();
    if (t < next_) return;
    next_ = t + 2.0;
    const double mb = static_cast<double>(p.bytes) / 1e6;
    std::string line = "telltale: " + fmt(mb, 1) + " MB, " + std::to_string(p.documents) + " documents, " +
                       fmt(static_cast<double>(p.tokens) / 1e6, 2) + "M tokens; " + fmt(mb / t, 2) + " MB/s, " +
                       fmt(static_cast<double>(p.tokens) / t / 1e6, 2) + "M tokens/s";
    if (total_ > 0 && p.bytes > 0 && p.bytes <= total_) {
      const double eta = t * static_cast<double>(total_ - p.bytes) / static_cast<double>(p.bytes);
      line += "; " + fmt(100.0 * static_cast<double>(p.bytes) / static_cast<double>(total_), 0) + "%, ETA " +
              fmt(eta, 0) + " s";
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

 private:
  static std::string fmt(double x, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, x);
    return buf;
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  bool enabled_;
  uint64_t total_;
  double next_ = 2.0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The recipe a run follows, from the options (the scheme checked against the tokenizer's vocabulary).
Result<evidence::DetectionRecipe> recipe_of(const DetectOptions& o, uint32_t vocab) {
  auto params = scheme_params(o.scheme, vocab);
  if (!params) return params.status();
  evidence::DetectionRecipe r;
  r.tokenizer = o.tokenizer;
  r.inputs = o.inputs;
  r.field = o.field;
  r.split = o.split == "paragraph" ? input::TextSplit::kParagraph
            : o.split == "line"    ? input::TextSplit::kLine
                                   : input::TextSplit::kFile;
  r.prompt = o.prompt;
  r.skip_bad = o.skip_bad;
  r.params = *params;
  r.rules.dedup = !o.no_dedup;
  r.rules.window_min = o.window;
  r.alpha = o.alpha;
  return r;
}

void report_skipped(uint64_t count, const std::vector<std::string>& messages) {
  if (count == 0) return;
  std::fprintf(stderr, "telltale: skipped %llu bad document(s) or file(s)%s\n", static_cast<unsigned long long>(count),
               count > messages.size() ? "; the first ones:" : ":");
  for (const std::string& m : messages) std::fprintf(stderr, "  %s\n", m.c_str());
}

int run_detect(const DetectOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) return fail("--alpha must be in (0, 1)");
  if (!o.expect_key_ids.empty() && o.expect_key_ids.size() != o.keys.size())
    return fail("give one --expect-key-id per --key");
  if (o.bundle.empty() != o.signing_key.empty()) return fail("--bundle and --signing-key go together");
  auto tokenizer = input::Tokenizer::load(o.tokenizer);
  if (!tokenizer) return fail(tokenizer.status());
  if (!o.expect_tokenizer_sha256.empty() && o.expect_tokenizer_sha256 != tokenizer->sha256_hex())
    return fail(o.tokenizer + ": SHA-256 " + tokenizer->sha256_hex() + " is not the expected " +
                o.expect_tokenizer_sha256 + " (the generator's tokenizer)");
  auto recipe = recipe_of(o, static_cast<uint32_t>(tokenizer->vocab_size()));
  if (!recipe) return fail(recipe.status());
  auto keys = read_key_files(o.keys, o.expect_key_ids);
  if (!keys) return fail(keys.status());
  std::optional<evidence::SigningKey> signer;
  if (!o.signing_key.empty()) {
    auto k = evidence::SigningKey::read(o.signing_key);
    if (!k) return fail(k.status());
    signer = std::move(k).value();
  }

  std::vector<score::AnalysisInfo> infos;
  for (const KeyRing& k : *keys) {
    auto d = Detector::create(k, recipe->params);
    if (!d) return fail(d.status());
    infos.push_back(score::analysis_info(*d, k.key_id_hex(), recipe->rules, tokenizer->sha256_hex()));
  }
  score::CorpusScanner::DocumentCallback on_doc;
  if (o.per_doc) {
    on_doc = [&infos, &o](const input::Document& d, std::span<const score::DocumentScore> s) {
      std::printf("%s\n", score::document_json(d, infos, s, o.alpha).dump().c_str());
    };
  }
  ProgressMeter meter(!o.quiet, total_input_bytes(o.inputs));
  auto on_progress = [&meter](const score::ScanProgress& p) { meter.update(p); };

  if (signer) {
    auto run = evidence::run_with_evidence(*recipe, *tokenizer, *keys, o.threads, "telltale " TELLTALE_VERSION,
                                           on_doc, on_progress);
    if (!run) return fail(run.status());
    report_skipped(run->run.skipped, run->run.skipped_messages);
    evidence::RunContext context = run_context(*keys, *tokenizer, run->files, signer->public_key());
    const nlohmann::json record =
        evidence::make_record(context, *recipe, run->summary, run->documents, run->plots);
    auto html = evidence::render_html_report(record);
    if (!html) return fail(html.status());
    if (Status w = evidence::write_bundle(o.bundle, record.dump(1) + "\n", *html, *signer); !w.is_ok()) return fail(w);
    if (!o.emit_partial.empty()) {
      if (Status w = score::write_partial_file(o.emit_partial, run->run.results); !w.is_ok()) return fail(w);
    }
    std::fprintf(stderr, "telltale: evidence bundle written to %s\n", o.bundle.c_str());
    return print_summary(run->run.results, o.alpha, o.per_doc);
  }

  auto run = score::run_detection(evidence::detection_setup(*recipe, *tokenizer, *keys, o.threads), on_doc, on_progress);
  if (!run) return fail(run.status());
  report_skipped(run->skipped, run->skipped_messages);
  if (!o.emit_partial.empty()) {
    if (Status w = score::write_partial_file(o.emit_partial, run->results); !w.is_ok()) return fail(w);
  }
  return print_summary(run->results, o.alpha, o.per_doc);
}

}  // namespace

void add_detect_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DetectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "detect",
      "Test text for the watermark of a key: exact p-value over the unique (context, token) tuples of all inputs.\n"
      "Prints a JSON summary (top level: p_value, scored_tokens, detected); with --per-doc, one JSON line per\n"
      "document first and the summary as the last line. Exit 0 detected, 1 not detected, 2 error.");
  cmd->add_option("--key,-k", o->keys, "key file; repeat to test several keys (Holm-corrected)")->required();
  cmd->add_option("--tokenizer,-t", o->tokenizer, "the generator's SentencePiece model (.model)")->required();
  cmd->add_option("inputs", o->inputs, "text files, directories, .jsonl files, .ids files, or - for stdin")
      ->required();
  add_scheme_options(*cmd, o->scheme);
  cmd->add_option("--field,-f", o->field, "JSONL: the text's field, e.g. response or messages[-1].content");
  cmd->add_option("--split", o->split, "text inputs: one document per file, paragraph or line")
      ->check(CLI::IsMember({"file", "paragraph", "line"}))
      ->capture_default_str();
  cmd->add_option("--prompt", o->prompt, "a known prompt: documents starting with it have its tokens skipped");
  cmd->add_flag("--per-doc", o->per_doc, "one JSON line per document (its own test) before the summary");
  cmd->add_option("--alpha,-a", o->alpha, "significance level for 'detected' (after every correction)")
      ->capture_default_str();
  cmd->add_flag("--skip-bad", o->skip_bad, "skip bad documents (invalid UTF-8, bad JSONL, ...) and count them");
  cmd->add_option("--threads,-j", o->threads, "threads for tokenizing and scoring (results do not depend on it)")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  cmd->add_flag("--no-dedup", o->no_dedup, "score repeated (context, token) tuples again (invalidates exactness)");
  cmd->add_option("--window", o->window,
                  "also search each document for a watermarked passage of at least N scored tokens (0: off)")
      ->capture_default_str();
  cmd->add_option("--emit-partial", o->emit_partial, "also write a partial result for `telltale merge` (new file)");
  cmd->add_option("--expect-tokenizer-sha256", o->expect_tokenizer_sha256,
                  "refuse a tokenizer whose SHA-256 differs (the hash published with the key)");
  cmd->add_option("--expect-key-id", o->expect_key_ids, "refuse a key whose public id differs (one per --key)");
  cmd->add_option("--bundle", o->bundle,
                  "also write a signed evidence bundle to this new directory (record, HTML report, manifest, signature)");
  cmd->add_option("--signing-key", o->signing_key, "the Ed25519 signing key for --bundle (telltale keygen --signing)");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress lines on stderr");
  cmd->callback([o, &exit_code] { exit_code = run_detect(*o); });
}

}  // namespace telltale::cli
