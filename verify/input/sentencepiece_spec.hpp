// The few settings of a SentencePiece model that decide whether the exact piece cache may cut its text, read from
// the serialized ModelProto (SentencePiece's public C++ API does not expose them; Debian ships no .pb.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace telltale::input {

// Field numbers and defaults of sentencepiece_model.proto (proto2): ModelProto.trainer_spec = 2 (model_type = 3,
// UNIGRAM = 1 by default, BPE = 2; treat_whitespace_as_suffix = 24, false), ModelProto.normalizer_spec = 3 (name = 1,
// add_dummy_prefix = 3, true; escape_whitespaces = 5, true; normalization_rule_tsv = 6).
struct SentencePieceSpec {
  int model_type = 1;
  bool treat_whitespace_as_suffix = false;
  std::string normalizer_name;
  bool add_dummy_prefix = true;
  bool escape_whitespaces = true;
  bool custom_rules = false;  // a normalization_rule_tsv (user rules: may map any sequence)
};

// The spec of a serialized ModelProto; none when the bytes are not well-formed protobuf.
std::optional<SentencePieceSpec> read_sentencepiece_spec(std::string_view model_proto);

}  // namespace telltale::input
