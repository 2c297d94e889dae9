// Field selectors pick the text out of one JSON record: `response`, `messages[-1].content`,
// `choices[0].message.content`, `["key.with.dots"]`. Used by the JSONL reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "telltale/status.hpp"

namespace telltale::input {

// Grammar (whitespace is not allowed anywhere):
//   selector := step ( '.' key | '[' index ']' | '[' quoted ']' )*
//   step     := key | '[' index ']' | '[' quoted ']'
//   key      := one or more bytes other than '.', '[', ']', '"', '\\', whitespace and control bytes
//   index    := '-'? digits      (no '+', no "-0"; at most 18 digits)
//   quoted   := '"' ( any byte but '"' and '\\' | '\\"' | '\\\\' )* '"'   (an object key, possibly empty)
// A negative index counts from the end of the array: -1 is the last element.
class FieldSelector {
 public:
  // One step: an object key or an array index.
  using Step = std::variant<std::string, int64_t>;

  // Parses `text`; errors name the selector and the byte position of the problem.
  static Result<FieldSelector> parse(std::string_view text);

  // Follows the selector through `record` to a string and returns a view of it; the view lives as long as
  // `record` is not modified. Errors say which prefix of the path failed and why, without file or line
  // (the caller adds them): "field 'messages[-1].content' missing", "field 'a.b' is a number, not a string".
  Result<std::string_view> select(const nlohmann::json& record) const;

  // The selector as written, e.g. "messages[-1].content".
  const std::string& text() const { return text_; }
  const std::vector<Step>& steps() const { return steps_; }

 private:
  // parse() and select() without their guard against std::bad_alloc.
  static Result<FieldSelector> parse_unchecked(std::string_view text);
  Result<std::string_view> select_unchecked(const nlohmann::json& record) const;

  std::string text_;
  std::vector<Step> steps_;
};

}  // namespace telltale::input
