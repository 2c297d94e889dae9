// Fuzzes DocumentSource over in-memory JSONL: options from the first bytes, then records selected by one of a few
// field selectors (including none, where each record must be a JSON string).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "source_invariants.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace telltale::input;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const char* const kFields[] = {"", "text", "messages[-1].content", "a.b[0]", "[\"k\"][1]", "choices[0].t"};
  const uint8_t pick = input.empty() ? 0 : static_cast<uint8_t>(input[0]);
  InputOptions o = fuzz::options_from(input);
  o.field = kFields[(pick >> 4) % 6];
  auto source = DocumentSource::from_memory("fuzz.jsonl", std::string(input), InputFormat::kJsonl, o);
  FUZZ_CHECK(source.is_ok());
  const size_t docs = fuzz::drain_checked(*source, o);
  FUZZ_CHECK(source->bytes_read() == input.size());
  static_cast<void>(docs);
  return 0;
}
