// The prompts a suspect model is asked: a .jsonl file (one object per line, the prompt in a field, "prompt" by
// default, any field selector allowed) or a text file with one prompt per line (blank lines skipped). The whole set
// is read up front: its SHA-256 ties a resumable run's log to it, and a prompt's ordinal is its index in the log.
#pragma once

#include <string>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::query {

struct PromptSet {
  std::vector<std::string> prompts;
  std::string sha256_hex;  // of the file's bytes
};

// Errors name the file and line: unreadable file, invalid UTF-8, a line that is not JSON or lacks the field, an
// empty prompt, no prompt at all.
Result<PromptSet> read_prompts(const std::string& path, const std::string& field = "prompt");

}  // namespace telltale::query
