// `--model` and its weight options, shared by `detect` and `attribute`: the owner's model weighs each scored position
// (verify/model/position_weights.hpp) and the command runs the model-aware test. Parsing and loading only.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "model/position_weights.hpp"
#include "telltale/scheme.hpp"
#include "telltale/status.hpp"

namespace telltale::cli {

struct ModelCliOptions {
  std::string model;  // llama2.c .bin; "" = the plain test
  std::string weight = "expected-gain";
  double temperature = 1.0;
  double top_p = 0.9;
};

void add_model_options(CLI::App& cmd, ModelCliOptions& o);

// The weigher of --model (none without it), for the scheme's detection layer or, with `account_layer`, the
// fingerprint's account layer. A model whose vocabulary differs from the tokenizer's is refused with one line.
Result<std::optional<model::PositionWeigher>> load_weigher(const ModelCliOptions& o, uint32_t tokenizer_vocab,
                                                           const SchemeParams& params, bool account_layer);

}  // namespace telltale::cli
