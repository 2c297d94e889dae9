// `telltale attribute`: which registered accounts produced this text? The same inputs and options as `detect`; the
// fingerprint scheme's account layer is decoded per document and over the pooled corpus and tested against every
// account of a registry file (spec/fingerprint.md). JSON on stdout (with --per-doc one line per document first);
// --bundle also writes a signed evidence bundle (spec/evidence-bundle.md). Exit 0 at least one account attributed,
// 1 none, 2 error.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "attrib/attribution_run.hpp"
#include "bundle_output.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "evidence/attrib_evidence.hpp"
#include "evidence/evidence_run.hpp"
#include "evidence/signing_key.hpp"
#include "model/weighted_detection.hpp"
#include "model_option.hpp"
#include "run_context.hpp"
#include "scan_setup.hpp"

namespace telltale::cli {
namespace {

struct AttributeOptions : ScanCliOptions {
  std::string registry;
  size_t top = 3;
  std::string bundle;
  std::string signing_key;
  bool pdf = false;  // --pdf: the bundle also holds report.pdf
  ModelCliOptions model;
};

// Attributes without keeping evidence: the same library run the bundle's re-run takes, without hashing the inputs.
Result<evidence::AttribEvidenceRun> attribute_plain(const evidence::AttributionRecipe& recipe,
                                                    const input::Tokenizer& tok, const KeyRing& key,
                                                    const attrib::AccountRegistry& registry, unsigned threads,
                                                    bool allow_empty, const attrib::DocumentLineCallback& on_line,
                                                    const score::CorpusScanner::ProgressCallback& on_progress,
                                                    model::PositionWeigher* weigher) {
  attrib::AttributionOptions options;
  options.alpha = recipe.detection.alpha;
  options.top = recipe.top;
  options.weighted = weigher != nullptr;
  score::DetectionSetup setup = evidence::detection_setup(recipe.detection, tok, std::span(&key, 1), threads);
  setup.input.allow_empty = allow_empty;
  attrib::WeightsCallback weigh;
  if (weigher) weigh = [weigher](std::span<const int32_t> ids, std::vector<uint32_t>& w) { weigher->weigh(ids, w); };
  auto run =
      attrib::run_attribution(setup, registry, options, "telltale " TELLTALE_VERSION, on_line, on_progress, weigh);
  if (!run) return run.status();
  if (weigher) {
    run->result["model_aware"] = {
        {"weights", model::weights_json(weigher->options(), weigher->model_sha256())},
        {"null",
         "each account's weighted match sum against sum_i u_i B_i, B_i ~ Bernoulli(theta) (exact DP, or the "
         "Chernoff bound where the DP is too large; spec/statistics.md section 8)"}};
  }
  evidence::AttribEvidenceRun out;
  out.run = std::move(run).value();
  return out;
}

int run_attribute(const AttributeOptions& o) {
  if (Status s = check_bundle_options(o.bundle, o.signing_key, o.pdf); !s.is_ok()) return fail(s);
  if (Status s = check_allow_empty(o.allow_empty, o.bundle); !s.is_ok()) return fail(s);
  if (o.scheme.scheme != "fingerprint") return fail("attribute needs --scheme fingerprint (the default)");
  if (o.keys.size() != 1) return fail("attribute takes exactly one --key");
  if (o.no_dedup) return fail("attribute always scores each context once: --no-dedup is not available");
  if (Status s = check_scan_options(o); !s.is_ok()) return fail(s);
  auto registry = attrib::AccountRegistry::read_file(o.registry);
  if (!registry) return fail(registry.status());
  auto tokenizer = load_checked_tokenizer(o);
  if (!tokenizer) return fail(tokenizer.status());
  auto detection = detection_recipe(o, static_cast<uint32_t>(tokenizer->vocab_size()));
  if (!detection) return fail(detection.status());
  const evidence::AttributionRecipe recipe{*detection, o.registry, o.top};
  auto keys = read_key_files(o.keys, o.expect_key_ids);
  if (!keys) return fail(keys.status());
  auto signing = read_signing_key(o.signing_key);
  if (!signing) return fail(signing.status());
  const std::optional<evidence::SigningKey> signer = std::move(signing).value();
  auto weigher = load_weigher(o.model, static_cast<uint32_t>(tokenizer->vocab_size()), detection->params, true);
  if (!weigher) return fail(weigher.status());
  if (weigher->has_value() && signer) return fail("--model is not available with --bundle");
  model::PositionWeigher* weigh = weigher->has_value() ? &**weigher : nullptr;

  attrib::DocumentLineCallback on_line;
  if (o.per_doc) on_line = [](const nlohmann::json& line) { std::printf("%s\n", line.dump().c_str()); };
  ProgressMeter meter(!o.quiet, total_input_bytes(o.inputs));
  auto on_progress = [&meter](const score::ScanProgress& p) { meter.update(p); };
  const KeyRing& key = keys->front();
  auto run = signer ? evidence::run_attrib_with_evidence(recipe, *tokenizer, key, *registry, o.threads,
                                                         "telltale " TELLTALE_VERSION, on_line, on_progress)
                    : attribute_plain(recipe, *tokenizer, key, *registry, o.threads, o.allow_empty, on_line,
                                      on_progress, weigh);
  if (!run) return fail(run.status());
  report_skipped(run->run.scan.skipped, run->run.scan.skipped_messages);
  if (!run->run.scan.results.empty()) warn_if_nothing_read(run->run.scan.results.front().state().documents);
  if (signer) {
    const evidence::RunContext context = run_context(std::span(&key, 1), *tokenizer, run->files, signer->public_key());
    const Status w = write_evidence_bundle(
        o.bundle, evidence::make_attrib_record(context, recipe, run->run.result, run->plots), *signer, o.pdf);
    if (!w.is_ok()) return fail(w);
  }
  std::printf("%s\n", run->run.result.dump(o.per_doc ? -1 : 2).c_str());
  if (Status s = flush_stdout(); !s.is_ok()) return fail(s);  // a lost write is an error, with its reason
  return run->run.attributed ? kExitDetected : kExitNotDetected;
}

}  // namespace

void add_attribute_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<AttributeOptions>();
  o->scheme.scheme = "fingerprint";
  CLI::App* cmd = app.add_subcommand(
      "attribute",
      "Attribute fingerprint-watermarked text to the accounts that generated it: every account of --registry is\n"
      "tested per document and over the pooled corpus, with exact p-values and Holm's correction over every\n"
      "(document, account) pair, so that the chance of accusing any innocent account is at most --alpha.\n"
      "Prints a JSON summary (top level: attributed, p_value, accusations, accounts, zero_bit = detect's summary of\n"
      "the shared layer); with --per-doc one JSON line per document first. Exit 0 attributed, 1 none, 2 error.");
  add_scan_options(*cmd, *o);
  cmd->add_option("--registry,-r", o->registry,
                  "the issued account ids: one decimal id (0..4294967295) per line, '#' comments (spec/fingerprint.md)")
      ->required();
  cmd->add_option("--top", o->top, "accounts listed per test besides the attributed ones")->capture_default_str();
  cmd->add_option("--bundle", o->bundle,
                  "also write a signed evidence bundle to this new directory (record, HTML report, manifest, "
                  "signature)");
  cmd->add_option("--signing-key", o->signing_key, "the Ed25519 signing key for --bundle (telltale keygen --signing)");
  add_pdf_flag(cmd, o->pdf);
  add_model_options(*cmd, o->model);
  cmd->callback([o, &exit_code] { exit_code = run_attribute(*o); });
}

}  // namespace telltale::cli
