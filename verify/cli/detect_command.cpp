// `telltale detect`: was this text produced with our key? Streams the inputs through the verifier library and
// prints JSON (a summary; with --per-doc one line per document first). Exit 0 detected, 1 not detected, 2 error.
#include <cstdio>
#include <memory>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "scan_setup.hpp"
#include "score/partial_file.hpp"
#include "score/report_json.hpp"
#include "summary_output.hpp"

namespace telltale::cli {
namespace {

struct DetectOptions : ScanCliOptions {
  std::string emit_partial;
};

int run_detect(const DetectOptions& o) {
  auto setup = prepare_scan(o);
  if (!setup) return fail(setup.status());
  ScanSetup& scan = **setup;
  score::CorpusScanner::DocumentCallback on_doc;
  if (o.per_doc) {
    on_doc = [&scan, &o](const input::Document& d, std::span<const score::DocumentScore> s) {
      std::printf("%s\n", score::document_json(d, scan.infos, s, o.alpha).dump().c_str());
    };
  }
  if (Status s = run_scan(scan, o, on_doc); !s.is_ok()) return fail(s);
  if (!o.emit_partial.empty()) {
    if (Status w = score::write_partial_file(o.emit_partial, scan.results); !w.is_ok()) return fail(w);
  }
  return print_summary(scan.results, o.alpha, o.per_doc);
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
  cmd->callback([o, &exit_code] { exit_code = run_detect(*o); });
}

}  // namespace telltale::cli
