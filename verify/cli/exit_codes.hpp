// The exit codes of `telltale`, one table for every command (also in `telltale --help` and the README). Scripts rely
// on them: a value never changes meaning.
#pragma once

namespace telltale::cli {

enum ExitCode : int {
  kExitOk = 0,           // the command did what was asked (keygen, keyinfo, generate, demo, report, filter, predict,
                         // query)
  kExitDetected = 0,     // a test found the watermark: detect, merge, radioactivity score; attribute: an account
  kExitNotDetected = 1,  // a test ran and found no watermark at the requested alpha (attribute: no account)
  kExitError = 2,        // bad arguments, bad input, an unreadable or unsafe file, a failed request: one line on stderr
};

// The table as `telltale --help` prints it.
inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 success (detect, merge, radioactivity score: watermark detected; attribute: an account\n"
    "attributed), 1 a test found no watermark (attribute: no account), 2 error (one line on stderr).";

}  // namespace telltale::cli
