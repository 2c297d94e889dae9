// Fuzzes the evidence record reader (record.json of a bundle, read by `telltale report verify|html`): any bytes
// either fail with a message naming record.json, or give a record whose recipe reads or fails cleanly and whose HTML
// report renders or fails cleanly, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "evidence/html_report.hpp"
#include "evidence/record.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace telltale::evidence;
  auto record = parse_record(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!record.is_ok()) {
    FUZZ_CHECK(record.status().message().rfind("record.json: ", 0) == 0);
    return 0;
  }
  auto recipe = recipe_from_json(*record);
  if (!recipe.is_ok()) FUZZ_CHECK(!recipe.status().message().empty());
  auto html = render_html_report(*record);
  if (html.is_ok()) {
    FUZZ_CHECK(html->rfind("<!DOCTYPE html>", 0) == 0);
    FUZZ_CHECK(html->find("<script") == std::string::npos);
  } else {
    FUZZ_CHECK(html.status().message().rfind("record.json: ", 0) == 0);
  }
  return 0;
}
