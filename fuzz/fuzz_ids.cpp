// Fuzzes the .ids parser: parse_token_ids on the raw bytes (with a print-and-reparse round trip), and
// DocumentSource over the same bytes as an .ids file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "source_invariants.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace telltale::input;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const std::string_view line = raw.substr(0, raw.find('\n'));
  std::vector<int32_t> ids;
  if (parse_token_ids(line, ids).is_ok()) {
    std::string printed;
    for (int32_t id : ids) {
      FUZZ_CHECK(id >= 0);
      printed += std::to_string(id) + ' ';
    }
    std::vector<int32_t> again;
    FUZZ_CHECK(parse_token_ids(printed, again).is_ok());
    FUZZ_CHECK(again == ids);
    std::vector<int32_t> limited;
    const bool fits = parse_token_ids(line, limited, 1000).is_ok();
    bool all_small = true;
    for (int32_t id : ids) all_small = all_small && id < 1000;
    FUZZ_CHECK(fits == all_small);
  }

  std::string_view input = raw;
  const InputOptions o = fuzz::options_from(input);
  auto source = DocumentSource::from_memory("fuzz.ids", std::string(input), InputFormat::kIds, o);
  FUZZ_CHECK(source.is_ok());
  fuzz::drain_checked(*source, o);
  return 0;
}
