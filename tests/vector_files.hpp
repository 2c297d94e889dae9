// The small binary files of spec/test-vectors.json (partial_file, context_filter), as bytes: the vectors test checks
// them bit for bit, the integrity tests damage them in every way.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_paths.hpp"

namespace telltale::test {

// The entry `name` of spec/test-vectors.json.
inline nlohmann::json vector_entry(const std::string& name) {
  std::ifstream in(std::string(kSourceDir) + "/spec/test-vectors.json");
  REQUIRE(in.good());
  const nlohmann::json all = nlohmann::json::parse(in);
  REQUIRE(all.contains(name));
  return all[name];
}

// The bytes of the entry's "bytes" hex string.
inline std::string vector_file_bytes(const std::string& name) {
  const std::string h = vector_entry(name)["bytes"].get<std::string>();
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace telltale::test
