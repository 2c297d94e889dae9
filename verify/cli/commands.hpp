// The subcommands of `telltale`. Each registers itself on the app and, when chosen, runs and stores its exit code
// (exit_codes.hpp).
#pragma once

#include <CLI/CLI.hpp>

namespace telltale::cli {

void add_keygen_command(CLI::App& app, int& exit_code);
void add_keyinfo_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_detect_command(CLI::App& app, int& exit_code);
void add_merge_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_attribute_command(CLI::App& app, int& exit_code);
void add_radioactivity_command(CLI::App& app, int& exit_code);
// `radioactivity query`, registered by add_radioactivity_command on its subcommand.
void add_radioactivity_query_command(CLI::App& radioactivity, int& exit_code);

}  // namespace telltale::cli
