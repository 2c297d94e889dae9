#include "attrib/attribution_run.hpp"

#include "attrib/attribution_json.hpp"
#include "attrib/attribution_scan.hpp"
#include "score/report_json.hpp"
#include "stats/tails.hpp"

namespace telltale::attrib {

namespace {

std::string label_of(const input::Document& d) {
  return d.line > 0 ? d.source + ":" + std::to_string(d.line) : d.source;
}

}  // namespace

Result<AttributionRun> run_attribution(const score::DetectionSetup& setup, const AccountRegistry& registry,
                                       const AttributionOptions& options, const std::string& software,
                                       const DocumentLineCallback& on_line,
                                       const score::CorpusScanner::ProgressCallback& on_progress,
                                       const WeightsCallback& weigh) {
  if (setup.keys.size() != 1) return invalid_argument("attribute takes exactly one --key");
  if (options.weighted && !weigh) return invalid_argument("a model-aware attribution needs the model's weights");
  if (setup.tokenizer == nullptr) return invalid_argument("an attribution needs a tokenizer");
  auto detector = Detector::create(setup.keys[0], setup.params);
  if (!detector) return detector.status();
  const score::AnalysisInfo info =
      score::analysis_info(*detector, setup.keys[0].key_id_hex(), setup.rules, setup.tokenizer->sha256_hex());
  auto scan = AttributionScan::create(*detector, registry, options);
  if (!scan) return scan.status();

  AttributionRun out;
  uint64_t document = 0;
  const DocumentAttribution* last = nullptr;
  std::vector<uint32_t> weights;
  auto on_tokens = [&](const input::Document& d, std::span<const int32_t> ids, size_t prompt) {
    if (options.weighted) weigh(ids, weights);
    last = &scan->add_document(ids, prompt, label_of(d), weights);
    const Attribution& a = last->result;
    if (a.scored > 0 && !a.ranked.empty()) {
      out.best_by_document.push_back({static_cast<double>(document), static_cast<double>(a.ranked[0].account),
                                      stats::log10_from_ln(a.ranked[0].log_p_adjusted)});
    }
    ++document;
  };
  score::CorpusScanner::DocumentCallback on_doc;
  if (on_line) {
    on_doc = [&](const input::Document& d, std::span<const score::DocumentScore> s) {
      on_line(document_attribution_json(*last, score::document_json(d, std::span(&info, 1), s, options.alpha)));
    };
  }
  auto run = score::run_detection(setup, on_doc, on_progress, on_tokens);
  if (!run) return run.status();

  std::vector<score::CorpusSummary> summaries;
  for (score::PartialResult& r : run->results) summaries.push_back(r.summarize());
  const auto zero_bit = score::summary_json(std::span(&info, 1), summaries, options.alpha, software);
  const CorpusAttribution corpus = scan->finish();
  out.result = corpus_attribution_json(corpus, registry.size(), options.alpha, zero_bit);
  out.result["software"] = software;
  out.attributed = !corpus.accusations.empty();
  out.scan = std::move(run).value();
  return out;
}

}  // namespace telltale::attrib
