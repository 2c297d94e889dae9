// Fuzzes FieldSelector::parse and select: input is "<selector>\n<json record>".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "input/field_selector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using telltale::input::FieldSelector;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view selector_text = input.substr(0, nl);
  auto selector = FieldSelector::parse(selector_text);
  if (!selector) {
    FUZZ_CHECK(selector.status().message().find('\n') == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(!selector->steps().empty());
  // Parsing the selector's own text again gives the same path.
  auto again = FieldSelector::parse(selector->text());
  FUZZ_CHECK(again && again->steps() == selector->steps());
  if (nl == std::string_view::npos) return 0;
  const std::string_view json_text = input.substr(nl + 1);
  const auto record = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded()) return 0;
  auto got = selector->select(record);
  if (!got) {
    FUZZ_CHECK(got.status().message().find('\n') == std::string::npos);
    return 0;
  }
  // A selected value is a string inside the record: the view must be readable end to end.
  size_t sum = 0;
  for (char c : *got) sum += static_cast<unsigned char>(c);
  static_cast<void>(sum);
  return 0;
}
