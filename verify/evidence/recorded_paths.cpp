// The confinement of a re-run's reads to the directories the verifier named (--base, --allow-dir).
#include "evidence/recorded_paths.hpp"

#include <algorithm>

namespace telltale::evidence {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void add_string(const json& j, const char* key, std::vector<std::string>& out) {
  if (j.is_object() && j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
    out.push_back(j[key].get<std::string>());
  }
}

// Whether normalised absolute `p` is `root` or below it, component by component ("/data2" is not inside "/data").
bool inside(const fs::path& p, const fs::path& root) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *q != *r) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> recorded_paths(const json& record) {
  std::vector<std::string> paths;
  if (record.contains("tokenizer")) add_string(record["tokenizer"], "path", paths);
  if (record.contains("input_files") && record["input_files"].is_array()) {
    for (const json& f : record["input_files"]) add_string(f, "path", paths);
  }
  if (record.contains("recipe") && record["recipe"].is_object()) {
    const json& recipe = record["recipe"];
    for (const char* key : {"tokenizer", "predictions", "answers", "filter", "registry"}) {
      add_string(recipe, key, paths);
    }
    if (recipe.contains("model_aware")) add_string(recipe["model_aware"], "model", paths);
    if (recipe.contains("inputs") && recipe["inputs"].is_array()) {
      for (const json& in : recipe["inputs"]) {
        if (in.is_string()) paths.push_back(in.get<std::string>());
      }
    }
  }
  return paths;
}

Status check_recorded_paths(const json& record, const std::vector<fs::path>& roots) {
  if (roots.empty()) return invalid_argument("no directory to re-run in");
  std::vector<fs::path> normal;
  for (const fs::path& root : roots) {
    fs::path r = fs::absolute(root).lexically_normal();
    if (!r.has_filename() && r.has_relative_path()) r = r.parent_path();  // "/data/" (from "." or "dir/") is "/data"
    normal.push_back(std::move(r));
  }
  for (const std::string& recorded : recorded_paths(record)) {
    // The OS would stop at a NUL byte: "/etc/shadow\0/../../data/x" must not pass as "/data/x".
    if (recorded.find('\0') != std::string::npos) {
      return invalid_argument("record.json names a path holding a NUL byte: not read");
    }
    const fs::path p = fs::path(recorded).is_absolute() ? fs::path(recorded) : normal.front() / recorded;
    const fs::path resolved = p.lexically_normal();
    const bool allowed =
        std::any_of(normal.begin(), normal.end(), [&](const fs::path& r) { return inside(resolved, r); });
    if (!allowed) {
      return invalid_argument("record.json names '" + recorded + "', outside " + normal.front().string() +
                              " (--base) and every --allow-dir: not read; if you trust this bundle, give the "
                              "directory that holds it with --allow-dir");
    }
  }
  return Status::ok();
}

}  // namespace telltale::evidence
