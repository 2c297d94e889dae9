// A linear scan of JSON text for its nesting depth, run before nlohmann builds (and later walks) the DOM.
#include "evidence/json_limits.hpp"

namespace telltale::evidence {

Status check_json_depth(std::string_view bytes, const std::string& name) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : bytes) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return invalid_argument(name + ": nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return Status::ok();
}

}  // namespace telltale::evidence
