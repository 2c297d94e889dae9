// What the attribution CLI and bundle tests share: fingerprinted texts of two known accounts and a registry that
// issues them among others.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "test_paths.hpp"

namespace telltale::test {

// Two stories of account 77 (seeds 3 and 4) and one of account 4000000000 (seed 9), `tokens` tokens at most, as
// `generate --jsonl` lines; `run` runs a telltale command in a folder that holds the key k.key.
template <typename Run>
std::string fingerprinted_texts(Run run, int tokens) {
  const std::string gen = "generate --scheme fingerprint -m " + std::string(kModelDir) + "/stories260K.bin -t " +
                          std::string(kModelDir) + "/tok512.model -n " + std::to_string(tokens) +
                          " --top-p 1 --jsonl -k k.key ";
  const auto a = run(gen + "--account 77 --count 2 --seed 3");
  REQUIRE(a.exit_code == 0);
  const auto b = run(gen + "--account 4000000000 --count 1 --seed 9");
  REQUIRE(b.exit_code == 0);
  return a.out + b.out;
}

// A registry that issues accounts 77, 4000000000 and first..last-1.
inline std::string registry_text(int first, int last) {
  std::string registry = "# issued\n77\n4000000000\n";
  for (int i = first; i < last; ++i) registry += std::to_string(i) + "\n";
  return registry;
}

}  // namespace telltale::test
