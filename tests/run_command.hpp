// Runs a command line through the shell for the CLI tests, capturing stdout, stderr and the exit code.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_paths.hpp"

namespace telltale::test {

struct CommandResult {
  int exit_code = -1;  // the process's exit status; 128 + signal when killed by one
  std::string out;
  std::string err;
};

// The `telltale` binary of this build.
inline std::string telltale_binary() { return std::string(kBinaryDir) + "/verify/telltale"; }

// Single-quotes `s` for the shell.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `command_line` with /bin/sh; stdout and stderr go to temporary files that are read back.
inline CommandResult run_command(const std::string& command_line) {
  static int counter = 0;
  const auto base = std::filesystem::temp_directory_path() /
                    ("telltale-cmd-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  const std::string out_path = base.string() + ".out", err_path = base.string() + ".err";
  const int status = std::system((command_line + " >" + out_path + " 2>" + err_path).c_str());
  CommandResult r;
  if (status != -1 && WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  else if (status != -1 && WIFSIGNALED(status))
    r.exit_code = 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

}  // namespace telltale::test
