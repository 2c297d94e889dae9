// What the tests of `telltale radioactivity query` share: running the CLI in a scratch folder, a prompt file, the
// query's arguments against a loopback test server, and the log read back line by line.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "openai_test_server.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"
#include "verify_test_support.hpp"

namespace telltale::test::query_cli {

inline std::string tok() { return std::string(kModelDir) + "/tok512.model"; }

struct Run {
  int rc = -1;
  std::string out;
  std::string err;
};

inline Run run(const ScratchDir& dir, const std::string& args, const std::string& env = {}) {
  const auto r = run_command("cd " + dir.str() + " && " + env + " " + telltale_binary() + " " + args);
  return {r.exit_code, r.out, r.err};
}

// The JSON summary of a run that must succeed (its stderr is shown when it did not).
inline nlohmann::json succeeded(const Run& r) {
  INFO(r.err);
  REQUIRE(r.rc == 0);
  return nlohmann::json::parse(r.out);
}

inline const std::vector<std::string> kPrompts = {
    "Once upon a time", "The little dog",     "Lily and Ben went to the park",
    "One day, a bird",  "Tom had a red ball", "The sun was hot"};

inline std::string prompt_file(const ScratchDir& dir, const std::vector<std::string>& prompts = kPrompts) {
  std::string text;
  for (const auto& p : prompts) text += nlohmann::json({{"prompt", p}}).dump() + "\n";
  return dir.file("prompts.jsonl", text);
}

// `radioactivity query` against `server`, fast retries and no rate limit worth the name.
inline std::string query_args(const OpenAiTestServer& server, const std::string& extra = {}) {
  return "radioactivity query -q -e " + server.base_url() + " -m suspect -p prompts.jsonl -o log.jsonl" +
         " --max-tokens 80 --rate 1000 --retry-delay 0.001 --max-retry-delay 0.01 " + extra;
}

struct LogLines {
  nlohmann::json header;
  std::vector<nlohmann::json> answers;
  std::vector<nlohmann::json> failures;
};

inline LogLines read_log(const std::string& path) {
  LogLines l;
  std::istringstream in(slurp(path));
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (first)
      l.header = j;
    else if (j.contains("error"))
      l.failures.push_back(j);
    else
      l.answers.push_back(j);
    first = false;
  }
  return l;
}

}  // namespace telltale::test::query_cli
