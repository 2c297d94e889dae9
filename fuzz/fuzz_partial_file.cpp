// Fuzzes the partial-result reader (telltale merge's input): any bytes either fail with a message or give results
// that summarize, merge with themselves and write back to bytes that read back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "score/partial_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace telltale::score;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto parsed = read_partial_stream(in, "fuzz.part");
  if (!parsed.is_ok()) {
    FUZZ_CHECK(parsed.status().message().rfind("fuzz.part: ", 0) == 0);
    return 0;
  }
  std::vector<PartialResult> results = std::move(parsed).value();
  for (PartialResult& r : results) (void)r.summarize();
  std::ostringstream out;
  write_partial_stream(out, results);
  std::istringstream again_in(out.str());
  auto again = read_partial_stream(again_in, "again.part");
  FUZZ_CHECK(again.is_ok());
  std::ostringstream out2;
  write_partial_stream(out2, again.value());
  FUZZ_CHECK(out2.str() == out.str());
  // Merging a result with a copy of itself: every tuple repeats, so the tuple set is unchanged.
  for (size_t a = 0; a < results.size(); ++a) {
    const size_t tuples = results[a].state().entries.size();
    FUZZ_CHECK(results[a].append(std::move(again.value()[a])).is_ok());
    FUZZ_CHECK(results[a].state().entries.size() == tuples);
    (void)results[a].summarize();
  }
  return 0;
}
