// `telltale merge`: combines the partial results of shards (detect --emit-partial), given in input order, into the
// summary one pass over all the shards would print, bit for bit.
#include <memory>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "numeric_flags.hpp"
#include "score/partial_file.hpp"
#include "score/partial_merge.hpp"
#include "summary_output.hpp"

namespace telltale::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> partials;
  std::string emit_partial;
  double alpha = 1e-3;
  uint64_t memory_limit = 0;  // --memory-limit: with --emit-partial, one file's tuples in memory at a time
  std::string spill_dir;
};

int run_merge(const MergeOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) return fail("--alpha must be in (0, 1)");
  if (o.emit_partial.empty()) {
    // Streaming: memory in the number of documents, whatever the number of tuples.
    auto merged = score::merge_partial_files(o.partials);
    if (!merged) return fail(merged.status());
    return print_summary(*merged, o.alpha, false);
  }
  // A merged partial result is wanted too: the tuples are held in memory to be written out, or spilled to disk file
  // by file under --memory-limit.
  if (Status s = check_new_path(o.emit_partial); !s.is_ok()) return fail(s);
  auto merged = score::read_merged_partial_files(o.partials, o.memory_limit, o.spill_dir);
  if (!merged) return fail(merged.status());
  if (Status w = score::write_partial_file(o.emit_partial, *merged); !w.is_ok()) return fail(w);
  return print_summary(*merged, o.alpha, false);
}

}  // namespace

void add_merge_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "Merge partial results of shards (detect --emit-partial), given in input order, into one summary.\n"
      "Exit 0 detected, 1 not detected, 2 error.");
  cmd->add_option("partials", o->partials, "partial-result files, in the order of the shards' inputs")->required();
  cmd->add_option("--alpha,-a", o->alpha, "significance level for 'detected'")
      ->check(significance_level())
      ->capture_default_str();
  cmd->add_option("--emit-partial", o->emit_partial,
                  "also write the merged partial result (new file; holds the tuples in memory, unlike a plain merge)");
  cmd->add_option("--memory-limit", o->memory_limit,
                  "with --emit-partial: spill each file's tuples to disk instead of holding them all (same result)")
      ->check(whole_number(4096, UINT64_MAX));
  cmd->add_option("--spill-dir", o->spill_dir, "directory for the spilled tuples [$TMPDIR or /tmp]");
  cmd->callback([o, &exit_code] { exit_code = run_merge(*o); });
}

}  // namespace telltale::cli
