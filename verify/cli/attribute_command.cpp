// `telltale attribute`: which registered accounts produced this text? The same inputs and options as `detect`; the
// fingerprint scheme's account layer is decoded per document and over the pooled corpus and tested against every
// account of a registry file (spec/fingerprint.md). JSON on stdout (with --per-doc one line per document first).
// Exit 0 at least one account attributed, 1 none, 2 error.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "attrib/attribution_json.hpp"
#include "attrib/attribution_scan.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "scan_setup.hpp"
#include "score/report_json.hpp"

namespace telltale::cli {
namespace {

struct AttributeOptions : ScanCliOptions {
  std::string registry;
  size_t top = 3;
};

std::string label_of(const input::Document& d) {
  return d.line > 0 ? d.source + ":" + std::to_string(d.line) : d.source;
}

int run_attribute(const AttributeOptions& o) {
  if (o.scheme.scheme != "fingerprint") return fail("attribute needs --scheme fingerprint (the default)");
  if (o.keys.size() != 1) return fail("attribute takes exactly one --key");
  if (o.no_dedup) return fail("attribute always scores each context once: --no-dedup is not available");
  auto registry = attrib::AccountRegistry::read_file(o.registry);
  if (!registry) return fail(registry.status());
  auto setup = prepare_scan(o);
  if (!setup) return fail(setup.status());
  ScanSetup& scan = **setup;
  attrib::AttributionOptions options;
  options.alpha = o.alpha;
  options.top = o.top;
  auto attribution = attrib::AttributionScan::create(scan.detectors[0], *registry, options);
  if (!attribution) return fail(attribution.status());

  const attrib::DocumentAttribution* last = nullptr;
  auto on_tokens = [&](const input::Document& d, std::span<const int32_t> ids, size_t prompt) {
    last = &attribution->add_document(ids, prompt, label_of(d));
  };
  score::CorpusScanner::DocumentCallback on_doc;
  if (o.per_doc) {
    on_doc = [&](const input::Document& d, std::span<const score::DocumentScore> s) {
      const auto zero_bit = score::document_json(d, scan.infos, s, o.alpha);
      std::printf("%s\n", attrib::document_attribution_json(*last, zero_bit).dump().c_str());
    };
  }
  if (Status s = run_scan(scan, o, on_doc, on_tokens); !s.is_ok()) return fail(s);

  std::vector<score::CorpusSummary> summaries;
  for (score::PartialResult& r : scan.results) summaries.push_back(r.summarize());
  const auto zero_bit = score::summary_json(scan.infos, summaries, o.alpha, "telltale " TELLTALE_VERSION);
  const attrib::CorpusAttribution corpus = attribution->finish();
  auto json = attrib::corpus_attribution_json(corpus, registry->size(), o.alpha, zero_bit);
  json["software"] = "telltale " TELLTALE_VERSION;
  std::printf("%s\n", json.dump(o.per_doc ? -1 : 2).c_str());
  std::fflush(stdout);
  return corpus.accusations.empty() ? kExitNotDetected : kExitDetected;
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
  cmd->callback([o, &exit_code] { exit_code = run_attribute(*o); });
}

}  // namespace telltale::cli
