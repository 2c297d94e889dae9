// Fuzzes the context-filter reader (spec/radioactivity.md section 4): any bytes either fail with a message that names
// the file, or give a filter whose fields are in range and that answers queries. Each input is read as it is (the
// checksum path) and with its checksum fixed up (the parser behind it).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "checksum_fixup.hpp"
#include "fuzz_check.hpp"
#include "radio/context_filter.hpp"

namespace {

void check_filter(const std::string& bytes) {
  using namespace telltale::radio;
  std::istringstream in(bytes);
  auto f = ContextFilter::read(in, "fuzz.ttcf");
  if (!f.is_ok()) {
    FUZZ_CHECK(f.status().message().rfind("fuzz.ttcf: ", 0) == 0);
    return;
  }
  FUZZ_CHECK(f->bits() >= 64 && f->bits() % 64 == 0 && f->probes() >= 1 && f->probes() <= ContextFilter::kMaxProbes);
  const double fpr = f->false_positive_rate();
  FUZZ_CHECK(fpr >= 0 && fpr <= 1);
  std::vector<int32_t> window(f->window_size(), 7);
  (void)f->contains(window);
  f->insert(window);
  FUZZ_CHECK(f->contains(window));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_filter(std::string(reinterpret_cast<const char*>(data), size));
  check_filter(with_fixed_checksum(data, size));
  return 0;
}
