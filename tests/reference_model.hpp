// The bundled reference model and its tokenizer (../shared/models/stories260K), loaded for a test that fails if they
// do not load.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "input/tokenizer.hpp"
#include "llama2c_model.hpp"
#include "test_paths.hpp"

namespace telltale::test {

inline std::unique_ptr<input::Tokenizer> reference_tokenizer() {
  auto tokenizer = input::Tokenizer::load(std::string(kModelDir) + "/tok512.model");
  REQUIRE(tokenizer.is_ok());
  return std::make_unique<input::Tokenizer>(std::move(tokenizer).value());
}

inline std::unique_ptr<refmodel::Llama2cModel> reference_model() {
  auto model = refmodel::Llama2cModel::load(std::string(kModelDir) + "/stories260K.bin");
  REQUIRE(model.is_ok());
  return std::make_unique<refmodel::Llama2cModel>(std::move(model).value());
}

}  // namespace telltale::test
