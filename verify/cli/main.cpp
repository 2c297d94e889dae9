// `telltale`: the command line. It parses arguments and prints; the work lives in the libraries.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli_common.hpp"
#include "commands.hpp"
#include "numeric_flags.hpp"
#include "run_context.hpp"

int main(int argc, char** argv) {
  using namespace telltale::cli;
  CLI::App app{
      "telltale: watermark language-model output with a secret key, and test text for the watermark.\n"
      "Exit codes: 0 success (detect: watermark detected), 1 detect found no watermark, 2 error."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "telltale " TELLTALE_VERSION);
  set_command_line(argc, argv);
  int exit_code = kExitError;
  add_keygen_command(app, exit_code);
  add_keyinfo_command(app, exit_code);
  add_generate_command(app, exit_code);
  add_detect_command(app, exit_code);
  add_attribute_command(app, exit_code);
  add_merge_command(app, exit_code);
  add_demo_command(app, exit_code);
  add_report_command(app, exit_code);
  add_radioactivity_command(app, exit_code);
  refuse_negative_unsigned(app);
  make_numeric_options_strict(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(e.what());
  } catch (const std::exception& e) {  // the libraries return statuses; this is a last line of defence
    return fail(e.what());
  }
  return exit_code;
}
