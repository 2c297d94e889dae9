// Prompt files: checked line by line, so a bad line is named and no request is sent for a half-read set.
#include "query/prompt_file.hpp"

#include <nlohmann/json.hpp>

#include "input/field_selector.hpp"
#include "input/input_stream.hpp"
#include "input/tokenizer.hpp"
#include "input/utf8.hpp"

namespace telltale::query {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<PromptSet> read_prompts(const std::string& path, const std::string& field) {
  auto read = input::read_input_file(path, "prompt file", "a prompt file");
  if (!read) return read.status();
  const std::string bytes = std::move(read).value();
  if (const auto bad = input::validate_utf8(bytes))
    return invalid_argument(path + ": invalid UTF-8 at byte " + std::to_string(*bad));
  const bool jsonl = ends_with(path, ".jsonl");
  auto selector = input::FieldSelector::parse(field);
  if (!selector) return invalid_argument("--field: " + selector.status().message());

  PromptSet set;
  set.sha256_hex = input::sha256_hex(bytes);
  size_t at = 0;
  for (uint64_t number = 1; at < bytes.size(); ++number) {
    size_t end = bytes.find('\n', at);
    if (end == std::string::npos) end = bytes.size();
    std::string_view line(bytes.data() + at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (!jsonl) {
      set.prompts.emplace_back(line);
      continue;
    }
    const auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded()) return invalid_argument(where + "not valid JSON");
    auto text = selector->select(j);
    if (!text) return invalid_argument(where + text.status().message());
    if (text->empty()) return invalid_argument(where + "empty prompt");
    set.prompts.emplace_back(*text);
  }
  if (set.prompts.empty()) return invalid_argument(path + ": no prompts");
  return set;
}

}  // namespace telltale::query
