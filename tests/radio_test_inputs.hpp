// Suspects made from the teacher's own output, for the radioactivity tests: a predictions file whose every
// prediction is the teacher's next id (a model that memorised the watermarked text), and an answer log whose answers
// are the watermarked completions.
#pragma once

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace telltale::test {

// From a predictions file (header line, then records): the same records, each position's prediction the next id.
inline std::string memorised_predictions(const std::string& predictions) {
  std::istringstream in(predictions);
  std::string header, line, out;
  std::getline(in, header);
  out = header + "\n";
  while (std::getline(in, line)) {
    auto r = nlohmann::json::parse(line);
    const auto ids = r.at("ids").get<std::vector<int>>();
    nlohmann::json positions = nlohmann::json::array(), predicted = nlohmann::json::array();
    for (size_t p = 1; p < ids.size(); ++p) {
      positions.push_back(p);
      predicted.push_back({ids[p]});
    }
    r["positions"] = positions;
    r["predicted"] = predicted;
    r.erase("logprobs");
    out += r.dump() + "\n";
  }
  return out;
}

// From `generate --jsonl` output: an answer log with each completion as the answer to the same prompt.
inline std::string answers_from_generations(const std::string& generations) {
  std::istringstream in(generations);
  std::string line, out;
  while (std::getline(in, line)) {
    const auto g = nlohmann::json::parse(line);
    out += nlohmann::json{{"prompt", "Once upon a time"}, {"response", g.at("completion")}}.dump() + "\n";
  }
  return out;
}

}  // namespace telltale::test
