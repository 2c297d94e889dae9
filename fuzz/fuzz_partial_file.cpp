// Fuzzes the partial-result reader (telltale merge's input): any bytes either fail with a message or give results
// that summarize, merge with themselves and write back to bytes that read back to the same bytes. Each input is read
// as it is (the checksum path) and with its checksum fixed up (the parser behind it).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "checksum_fixup.hpp"
#include "fuzz_check.hpp"
#include "score/partial_file.hpp"

namespace {

void check_partial(const std::string& bytes) {
  using namespace telltale::score;
  std::istringstream in(bytes);
  auto parsed = read_partial_stream(in, "fuzz.part");
  if (!parsed.is_ok()) {
    FUZZ_CHECK(parsed.status().message().rfind("fuzz.part: ", 0) == 0);
    return;
  }
  std::vector<PartialResult> results = std::move(parsed).value();
  for (PartialResult& r : results) (void)r.summarize();
  std::ostringstream out;
  FUZZ_CHECK(write_partial_stream(out, results).is_ok());
  std::istringstream again_in(out.str());
  auto again = read_partial_stream(again_in, "again.part");
  FUZZ_CHECK(again.is_ok());
  std::ostringstream out2;
  FUZZ_CHECK(write_partial_stream(out2, again.value()).is_ok());
  FUZZ_CHECK(out2.str() == out.str());
  // Merging a result with a copy of itself: every tuple repeats, so the tuple set is unchanged.
  for (size_t a = 0; a < results.size(); ++a) {
    const size_t tuples = results[a].state().entries.size();
    FUZZ_CHECK(results[a].append(std::move(again.value()[a])).is_ok());
    FUZZ_CHECK(results[a].state().entries.size() == tuples);
    (void)results[a].summarize();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_partial(std::string(reinterpret_cast<const char*>(data), size));
  check_partial(with_fixed_checksum(data, size));
  return 0;
}
