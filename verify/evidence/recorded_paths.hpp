// Where `report verify --key` may read: every file a record names for its re-run (tokenizer, inputs, predictions,
// answers, filter, registry) must lie inside a directory the verifier gave, so that a hostile signed record cannot
// make it read, hash or print a file of its choosing (spec/evidence-bundle.md, "Re-running").
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::evidence {

// Every path the re-run of `record` would open, as recorded (empty fields left out). Call after parse_record.
std::vector<std::string> recorded_paths(const nlohmann::json& record);

// Checks every recorded path against `roots` (directories, made absolute; the first is where relative paths
// resolve): a path, relative ones resolved in roots[0], lexically normalised ("a/../b" is "b"), must lie inside one
// of them. Symbolic links inside a root are the verifier's own and are followed. The message names the first path
// refused and the flags that would admit it.
Status check_recorded_paths(const nlohmann::json& record, const std::vector<std::filesystem::path>& roots);

}  // namespace telltale::evidence
