// Parsing and evaluation of field selectors; nlohmann::json is only read through non-throwing calls here.
#include "input/field_selector.hpp"

#include <new>

#include <nlohmann/json.hpp>

#include "input/utf8.hpp"

namespace telltale::input {
namespace {

Status syntax_error(std::string_view text, size_t pos, std::string_view what) {
  return invalid_argument("field selector '" + printable(text, 200) + "': " + std::string(what) + " at position " +
                          std::to_string(pos));
}

// Whitespace and control bytes are refused in plain keys so that a typo like "a. b" is an error, not a lookup
// of the key " b"; such keys can still be written quoted: ["a b"].
bool is_key_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return c != '.' && c != '[' && c != ']' && c != '"' && c != '\\' && u > 0x20 && u != 0x7F;
}

// Renders steps[0, count) the way the user would write them, for error messages.
std::string render_prefix(const std::vector<FieldSelector::Step>& steps, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (const auto* key = std::get_if<std::string>(&steps[i])) {
      bool plain = !key->empty();
      for (char c : *key) plain = plain && is_key_byte(c);
      if (plain) {
        if (i > 0) out += '.';
        out += *key;
      } else {
        out += "[\"";
        for (char c : *key) {
          if (c == '"' || c == '\\') out += '\\';
          out += c;
        }
        out += "\"]";
      }
    } else {
      out += '[' + std::to_string(std::get<int64_t>(steps[i])) + ']';
    }
  }
  return out;
}

// "the record" or "field 'a.b'": the part of the path that was followed before a step failed.
std::string describe_prefix(const std::vector<FieldSelector::Step>& steps, size_t count) {
  if (count == 0) return "the record";
  return "field '" + printable(render_prefix(steps, count), 200) + "'";
}

// "a number", "an object", "null": the JSON type with the article English wants.
std::string describe_type(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::binary: return "binary data";
    case nlohmann::json::value_t::discarded: return "invalid";
    default: return "a number";
  }
}

}  // namespace

Result<FieldSelector> FieldSelector::parse(std::string_view text) {
  try {
    return parse_unchecked(text);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, "out of memory parsing a field selector");
  }
}

Result<FieldSelector> FieldSelector::parse_unchecked(std::string_view text) {
  if (text.empty()) return invalid_argument("field selector is empty; expected e.g. 'text' or 'messages[-1].content'");
  FieldSelector sel;
  sel.text_ = std::string(text);
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == '[') {
      const size_t open = i++;
      if (i < n && text[i] == '"') {
        ++i;
        std::string key;
        bool closed = false;
        while (i < n) {
          if (text[i] == '\\') {
            if (i + 1 >= n || (text[i + 1] != '"' && text[i + 1] != '\\'))
              return syntax_error(text, i, "only \\\" and \\\\ escapes are allowed in a quoted key");
            key += text[i + 1];
            i += 2;
          } else if (text[i] == '"') {
            closed = true;
            ++i;
            break;
          } else {
            key += text[i++];
          }
        }
        if (!closed) return syntax_error(text, open, "unterminated quoted key");
        if (i >= n || text[i] != ']') return syntax_error(text, i, "expected ']' after quoted key");
        ++i;
        sel.steps_.emplace_back(std::move(key));
        continue;
      }
      bool negative = false;
      if (i < n && text[i] == '-') {
        negative = true;
        ++i;
      }
      const size_t digits_start = i;
      int64_t value = 0;
      while (i < n && text[i] >= '0' && text[i] <= '9') {
        if (i - digits_start >= 18) return syntax_error(text, digits_start, "array index too large");
        value = value * 10 + (text[i] - '0');
        ++i;
      }
      if (i == digits_start) return syntax_error(text, digits_start, "expected an array index (e.g. [0] or [-1])");
      if (i >= n || text[i] != ']') return syntax_error(text, i, "expected ']' to close the array index");
      if (negative && value == 0) return syntax_error(text, digits_start - 1, "index -0 is not allowed; use [0]");
      ++i;
      sel.steps_.emplace_back(negative ? -value : value);
      continue;
    }
    if (c == '.') {
      if (sel.steps_.empty()) return syntax_error(text, i, "selector starts with '.'");
      ++i;
      if (i >= n) return syntax_error(text, i, "expected a key after '.'");
      if (text[i] == '[') return syntax_error(text, i, "'.' must be followed by a key, not '['");
    }
    if (!is_key_byte(text[i])) {
      const auto u = static_cast<unsigned char>(text[i]);
      if (u <= 0x20 || u == 0x7F) {
        return syntax_error(text, i, "whitespace or a control byte (quote such keys: [\"a b\"])");
      }
      return syntax_error(text, i, std::string("unexpected '") + text[i] + "'");
    }
    if (c != '.' && !sel.steps_.empty()) return syntax_error(text, i, "expected '.' or '[' between steps");
    const size_t key_start = i;
    while (i < n && is_key_byte(text[i])) ++i;
    sel.steps_.emplace_back(std::string(text.substr(key_start, i - key_start)));
  }
  return sel;
}

Result<std::string_view> FieldSelector::select(const nlohmann::json& record) const {
  try {
    return select_unchecked(record);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory, "out of memory selecting a field");
  }
}

Result<std::string_view> FieldSelector::select_unchecked(const nlohmann::json& record) const {
  // Built only on failure: select() runs once per JSONL record.
  const auto field = [this] { return "field '" + printable(text_, 200) + "'"; };
  const nlohmann::json* cur = &record;
  for (size_t s = 0; s < steps_.size(); ++s) {
    const Step& step = steps_[s];
    if (const auto* key = std::get_if<std::string>(&step)) {
      if (!cur->is_object()) {
        return invalid_argument(field() + " missing: " + describe_prefix(steps_, s) + " is " + describe_type(*cur) +
                                ", not an object");
      }
      const auto it = cur->find(*key);
      if (it == cur->end()) return invalid_argument(field() + " missing");
      cur = &*it;
    } else {
      const int64_t index = std::get<int64_t>(step);
      if (!cur->is_array()) {
        return invalid_argument(field() + " missing: " + describe_prefix(steps_, s) + " is " + describe_type(*cur) +
                                ", not an array");
      }
      const auto size = static_cast<int64_t>(cur->size());
      const int64_t at = index < 0 ? size + index : index;
      if (at < 0 || at >= size) {
        return invalid_argument(field() + " missing: index " + std::to_string(index) +
                                " is out of range for an array of " + std::to_string(size) + " elements");
      }
      cur = &(*cur)[static_cast<size_t>(at)];
    }
  }
  if (!cur->is_string()) {
    return invalid_argument(field() + " is " + describe_type(*cur) + ", not a string");
  }
  return std::string_view(cur->get_ref<const std::string&>());
}

}  // namespace telltale::input
