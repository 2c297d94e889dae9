// The model-aware branch of `detect`: one library run (evidence::run_with_evidence for a bundle, else the plain scan
// with the model-aware scan beside it), then the same printing as the plain branch.
#include "model_aware_detect.hpp"

#include <cstdio>

#include "bundle_output.hpp"
#include "cli_common.hpp"
#include "evidence/evidence_run.hpp"
#include "run_context.hpp"
#include "score/detection.hpp"
#include "score/report_json.hpp"

namespace telltale::cli {
namespace {

int print_and_decide(const nlohmann::json& summary, bool one_line) {
  std::printf("%s\n", summary.dump(one_line ? -1 : 2).c_str());
  if (Status s = flush_stdout(); !s.is_ok()) return fail(s);
  return summary.at("detected").get<bool>() ? kExitDetected : kExitNotDetected;
}

}  // namespace

int run_model_aware_detect(const ScanCliOptions& o, const evidence::DetectionRecipe& recipe,
                           const input::Tokenizer& tokenizer, std::span<const KeyRing> keys,
                           const std::optional<evidence::SigningKey>& signer, const std::string& bundle, bool pdf) {
  ProgressMeter meter(!o.quiet, total_input_bytes(o.inputs));
  auto on_progress = [&meter](const score::ScanProgress& p) { meter.update(p); };
  const std::string software = "telltale " TELLTALE_VERSION;
  if (signer) {
    auto run = evidence::run_with_evidence(recipe, tokenizer, keys, o.threads, software, {}, on_progress);
    if (!run) return fail(run.status());
    report_skipped(run->run.skipped, run->run.skipped_messages);
    const evidence::RunContext context = run_context(keys, tokenizer, run->files, signer->public_key());
    const nlohmann::json record = evidence::make_record(context, recipe, run->summary, run->documents, run->plots);
    if (Status w = write_evidence_bundle(bundle, record, *signer, pdf); !w.is_ok()) return fail(w);
    if (o.per_doc)
      for (const nlohmann::json& d : run->documents) std::printf("%s\n", d.dump().c_str());
    return print_and_decide(run->summary, o.per_doc);
  }
  auto scan = evidence::model_aware_scan(recipe, tokenizer, keys);
  if (!scan) return fail(scan.status());
  model::ModelAwareScan& weighted = **scan;
  std::vector<score::AnalysisInfo> infos;
  for (const KeyRing& k : keys) {
    auto d = Detector::create(k, recipe.params);
    if (!d) return fail(d.status());
    infos.push_back(score::analysis_info(*d, k.key_id_hex(), recipe.rules, tokenizer.sha256_hex()));
  }
  score::CorpusScanner::DocumentCallback on_doc;
  if (o.per_doc) {
    on_doc = [&](const input::Document& d, std::span<const score::DocumentScore> s) {
      nlohmann::json line = score::document_json(d, infos, s, o.alpha);
      line["model_aware"] = weighted.last_document();
      std::printf("%s\n", line.dump().c_str());
    };
  }
  score::DetectionSetup setup = evidence::detection_setup(recipe, tokenizer, keys, o.threads);
  setup.input.allow_empty = o.allow_empty;
  auto run = score::run_detection(setup, on_doc, on_progress, weighted.on_tokens());
  if (!run) return fail(run.status());
  report_skipped(run->skipped, run->skipped_messages);
  warn_if_nothing_read(run->results.front().state().documents);
  std::vector<score::CorpusSummary> summaries;
  for (score::PartialResult& r : run->results) summaries.push_back(r.summarize());
  nlohmann::json summary = score::summary_json(infos, summaries, o.alpha, software);
  weighted.amend_summary(summary);
  return print_and_decide(summary, o.per_doc);
}

}  // namespace telltale::cli
