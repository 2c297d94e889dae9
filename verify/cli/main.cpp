// `telltale`: the command line. It parses arguments and prints; the work lives in the libraries.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "numeric_flags.hpp"
#include "run_context.hpp"

namespace {

// A standard descriptor the caller closed (`>&-`) would be reused by the next open(), and a key file could then
// receive what is printed. Each closed one is held by /dev/null instead; stdout read-only, so that a write to it
// still fails (EBADF) and is reported at exit.
void hold_closed_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int held = ::open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY);
    if (held >= 0 && held != fd) {
      ::dup2(held, fd);
      ::close(held);
    }
  }
}

// The exit status once the command ran: a lost write to stdout turns success (or "not detected") into an error.
int finish(int exit_code) {
  const telltale::Status s = telltale::cli::flush_stdout();
  if (s.is_ok() || exit_code == telltale::cli::kExitError) return exit_code;
  return telltale::cli::fail(s);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace telltale::cli;
  hold_closed_standard_descriptors();
  const std::string about =
      "telltale: watermark language-model output with a secret key, and test text for the watermark.\n";
  CLI::App app{about + kExitCodeHelp};
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
    return finish(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    return finish(app.exit(e));
  } catch (const CLI::CallForVersion& e) {
    return finish(app.exit(e));
  } catch (const CLI::ParseError& e) {
    return finish(fail(e.what()));
  } catch (const std::exception& e) {  // the libraries return statuses; this is a last line of defence
    return finish(fail(e.what()));
  }
  return finish(exit_code);
}
