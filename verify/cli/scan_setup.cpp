// The input side shared by `detect` and `attribute`: options, checked tokenizer, recipe, progress, skipped inputs.
#include "scan_setup.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "numeric_flags.hpp"

namespace telltale::cli {

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

void ProgressMeter::update(const score::ScanProgress& p) {
  if (!enabled_) return;
  const double t = seconds();
  if (t < next_) return;
  next_ = t + 2.0;
  const double mb = static_cast<double>(p.bytes) / 1e6;
  std::string line = "telltale: " + fixed(mb, 1) + " MB, " + std::to_string(p.documents) + " documents, " +
                     fixed(static_cast<double>(p.tokens) / 1e6, 2) + "M tokens; " + fixed(mb / t, 2) + " MB/s, " +
                     fixed(static_cast<double>(p.tokens) / t / 1e6, 2) + "M tokens/s";
  if (total_ > 0 && p.bytes > 0 && p.bytes <= total_) {
    const double eta = t * static_cast<double>(total_ - p.bytes) / static_cast<double>(p.bytes);
    line += "; " + fixed(100.0 * static_cast<double>(p.bytes) / static_cast<double>(total_), 0) + "%, ETA " +
            fixed(eta, 0) + " s";
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string ProgressMeter::fixed(double x, int digits) { return fmt::format("{:.{}f}", x, digits); }

double ProgressMeter::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void add_scan_options(CLI::App& cmd, ScanCliOptions& o) {
  cmd.add_option("--key,-k", o.keys, "key file; repeat to test several keys (Holm-corrected)")->required();
  cmd.add_option("--tokenizer,-t", o.tokenizer, "the generator's tokenizer: SentencePiece .model or llama.cpp .gguf")
      ->required();
  cmd.add_option("inputs", o.inputs, "text files, directories, .jsonl files, .ids files, or - for stdin")->required();
  add_scheme_options(cmd, o.scheme);
  cmd.add_option("--field,-f", o.field, "JSONL: the text's field, e.g. response or messages[-1].content");
  cmd.add_option("--split", o.split, "text inputs: one document per file, paragraph or line")
      ->check(CLI::IsMember({"file", "paragraph", "line"}))
      ->capture_default_str();
  cmd.add_option("--prompt", o.prompt, "a known prompt: documents starting with it have its tokens skipped");
  cmd.add_flag("--per-doc", o.per_doc, "one JSON line per document (its own test) before the summary");
  cmd.add_option("--alpha,-a", o.alpha, "significance level (after every correction)")
      ->check(significance_level())
      ->capture_default_str();
  cmd.add_flag("--skip-bad", o.skip_bad, "skip bad documents (invalid UTF-8, bad JSONL, ...) and count them");
  add_allow_empty_flag(cmd, o.allow_empty);
  cmd.add_option("--threads,-j", o.threads, "threads for tokenizing and scoring (results do not depend on it)")
      ->check(whole_number(1, 1024))
      ->capture_default_str();
  cmd.add_flag("--no-dedup", o.no_dedup, "score repeated (context, token) tuples again (invalidates exactness)");
  cmd.add_option("--window", o.window,
                 "also search each document for a watermarked passage of at least N scored tokens (0: off)")
      ->capture_default_str();
  cmd.add_option("--expect-tokenizer-sha256", o.expect_tokenizer_sha256,
                 "refuse a tokenizer whose SHA-256 differs (the hash published with the key)")
      ->transform(hex_digits(64));
  cmd.add_option("--vocab-size", o.vocab_size,
                 "refuse a tokenizer of another size (the vocabulary the key's scheme was configured with)")
      ->check(whole_number(2, 1u << 30));
  cmd.add_option("--expect-key-id", o.expect_key_ids, "refuse a key whose public id differs (one per --key)")
      ->transform(hex_digits(64));
  cmd.add_flag("--quiet,-q", o.quiet, "no progress lines on stderr");
}

Status check_scan_options(const ScanCliOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) return invalid_argument("--alpha must be in (0, 1)");
  if (!o.expect_key_ids.empty() && o.expect_key_ids.size() != o.keys.size())
    return invalid_argument("give one --expect-key-id per --key");
  return Status::ok();
}

void add_allow_empty_flag(CLI::App& cmd, bool& allow_empty) {
  cmd.add_flag("--allow-empty", allow_empty,
               "inputs holding no document are not an error (the result then covers nothing; not with --bundle)");
}

Status check_allow_empty(bool allow_empty, const std::string& bundle) {
  if (allow_empty && !bundle.empty()) {
    return invalid_argument(
        "--allow-empty cannot be used with --bundle (a signed record over no documents proves nothing)");
  }
  return Status::ok();
}

void warn_if_nothing_read(uint64_t documents_or_records) {
  if (documents_or_records == 0) std::fprintf(stderr, "telltale: warning: no documents read (--allow-empty)\n");
}

Result<input::Tokenizer> load_checked_tokenizer(const ScanCliOptions& o) {
  auto tokenizer = input::Tokenizer::load(o.tokenizer);
  if (!tokenizer) return tokenizer.status();
  if (!o.expect_tokenizer_sha256.empty() && o.expect_tokenizer_sha256 != tokenizer->sha256_hex())
    return invalid_argument(o.tokenizer + ": SHA-256 " + tokenizer->sha256_hex() + " is not the expected " +
                            o.expect_tokenizer_sha256 + " (the generator's tokenizer)");
  if (o.vocab_size != 0 && o.vocab_size != static_cast<uint32_t>(tokenizer->vocab_size()))
    return invalid_argument(o.tokenizer + ": a vocabulary of " + std::to_string(tokenizer->vocab_size()) +
                            " ids, not the key's " + std::to_string(o.vocab_size) + " (--vocab-size)");
  return tokenizer;
}

Result<evidence::DetectionRecipe> detection_recipe(const ScanCliOptions& o, uint32_t vocab) {
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

}  // namespace telltale::cli
