// The log-probabilities a suspect's API returns with an answer, checked and brought to one shape for the query log
// (spec/radioactivity.md, section 5.1): the chat API's choices[0].logprobs.content array, or the legacy completions
// API's {tokens, token_logprobs, top_logprobs, text_offset} converted into that array.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "query/openai_protocol.hpp"
#include "telltale/status.hpp"

namespace telltale::query {

// The most alternatives per position a request may ask for (the OpenAI API's own limit for chat).
inline constexpr uint32_t kMaxTopLogprobs = 20;

// Reads choices[0].logprobs of a reply (`choice` is choices[0]). nullopt when the server gave none (no "logprobs",
// or null: it ignored the request); otherwise the array
//   [{"token": str, "bytes": [0..255...] | null, "logprob": number <= 0, "top_logprobs": [{"token", "bytes",
//   "logprob"}, ...]}, ...]
// with exactly these members. Anything malformed is an error naming the first bad place in one line.
Result<std::optional<nlohmann::json>> read_logprobs(Api api, const nlohmann::json& choice);

}  // namespace telltale::query
