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

#include "bundle_output.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/record.hpp"
#include "evidence/signing_key.hpp"
#include "input/document_source.hpp"
#include "input/tokenizer.hpp"
#include "model_aware_detect.hpp"
#include "model_option.hpp"
#include "numeric_flags.hpp"
#include "run_context.hpp"
#include "scan_setup.hpp"
#include "score/corpus_scanner.hpp"
#include "score/detection.hpp"
#include "score/partial_file.hpp"
#include "score/report_json.hpp"
#include "summary_output.hpp"

namespace telltale::cli {
namespace {

// detect's options: the input side it shares with attribute, plus its own outputs.
struct DetectOptions : ScanCliOptions {
  std::string emit_partial;
  std::string bundle;
  std::string signing_key;
  bool pdf = false;           // --pdf: the bundle also holds report.pdf
  uint64_t memory_limit = 0;  // --memory-limit: bytes of tuple set before it spills to disk (0: no bound)
  std::string spill_dir;
  ModelCliOptions model;
};

int run_detect(const DetectOptions& o) {
  if (Status s = check_scan_options(o); !s.is_ok()) return fail(s);
  if (Status s = check_bundle_options(o.bundle, o.signing_key, o.pdf); !s.is_ok()) return fail(s);
  if (Status s = check_allow_empty(o.allow_empty, o.bundle); !s.is_ok()) return fail(s);
  if (!o.emit_partial.empty())
    if (Status s = check_new_path(o.emit_partial); !s.is_ok()) return fail(s);
  if (o.memory_limit > 0 && !o.bundle.empty()) return fail("--memory-limit is not available with --bundle");
  auto tokenizer = load_checked_tokenizer(o);
  if (!tokenizer) return fail(tokenizer.status());
  auto recipe = detection_recipe(o, static_cast<uint32_t>(tokenizer->vocab_size()));
  if (!recipe) return fail(recipe.status());
  auto keys = read_key_files(o.keys, o.expect_key_ids);
  if (!keys) return fail(keys.status());
  auto signing = read_signing_key(o.signing_key);
  if (!signing) return fail(signing.status());
  const std::optional<evidence::SigningKey> signer = std::move(signing).value();
  auto weigher = load_weigher(o.model, static_cast<uint32_t>(tokenizer->vocab_size()), recipe->params, false);
  if (!weigher) return fail(weigher.status());
  if (weigher->has_value()) {
    if (!o.emit_partial.empty()) return fail("--model is not available with --emit-partial (it holds the plain test)");
    if (o.memory_limit > 0)
      return fail("--model is not available with --memory-limit (its weights are held in memory)");
    recipe->model_aware = {o.model.model, (*weigher)->model_sha256(), o.model.weight, o.model.temperature,
                           o.model.top_p};
    return run_model_aware_detect(o, *recipe, *tokenizer, *keys, signer, o.bundle, o.pdf);
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
    auto run = evidence::run_with_evidence(*recipe, *tokenizer, *keys, o.threads, "telltale " TELLTALE_VERSION, on_doc,
                                           on_progress);
    if (!run) return fail(run.status());
    report_skipped(run->run.skipped, run->run.skipped_messages);
    evidence::RunContext context = run_context(*keys, *tokenizer, run->files, signer->public_key());
    const nlohmann::json record = evidence::make_record(context, *recipe, run->summary, run->documents, run->plots);
    // The partial is written first and moved into place after the bundle: a failed write leaves neither.
    std::optional<NewFile> partial;
    if (!o.emit_partial.empty()) {
      auto staged = score::stage_partial_file(o.emit_partial, run->run.results);
      if (!staged) return fail(staged.status());
      partial = std::move(staged).value();
    }
    if (Status w = write_evidence_bundle(o.bundle, record, *signer, o.pdf); !w.is_ok()) return fail(w);
    if (partial)
      if (Status w = partial->commit(); !w.is_ok()) return fail(w);
    return print_summary(run->run.results, o.alpha, o.per_doc);
  }

  score::DetectionSetup setup = evidence::detection_setup(*recipe, *tokenizer, *keys, o.threads);
  setup.input.allow_empty = o.allow_empty;
  setup.scan.memory_limit = o.memory_limit;
  setup.scan.spill_dir = o.spill_dir;
  auto run = score::run_detection(setup, on_doc, on_progress);
  if (!run) return fail(run.status());
  report_skipped(run->skipped, run->skipped_messages);
  warn_if_nothing_read(run->results.front().state().documents);
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
  add_scan_options(*cmd, *o);
  cmd->add_option("--emit-partial", o->emit_partial, "also write a partial result for `telltale merge` (new file)");
  cmd->add_option(
      "--bundle", o->bundle,
      "also write a signed evidence bundle to this new directory (record, HTML report, manifest, signature)");
  cmd->add_option("--signing-key", o->signing_key, "the Ed25519 signing key for --bundle (telltale keygen --signing)");
  add_pdf_flag(cmd, o->pdf);
  add_model_options(*cmd, o->model);
  cmd->add_option(
         "--memory-limit", o->memory_limit,
         "bytes of memory for the corpus-wide tuple set; beyond, it spills to sorted runs on disk (same result)")
      ->check(whole_number(4096, UINT64_MAX));
  cmd->add_option("--spill-dir", o->spill_dir, "directory for the spilled tuple set [$TMPDIR or /tmp]");
  cmd->callback([o, &exit_code] { exit_code = run_detect(*o); });
}

}  // namespace telltale::cli
