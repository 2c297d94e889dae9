// Fuzzes the account-registry parser: a refusal is one line that names the file; an accepted registry holds distinct
// 32-bit ids, re-parses from its own printout to the same ids, and carries each id's code symbols.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "attrib/account_registry.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using telltale::attrib::AccountRegistry;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto r = AccountRegistry::parse(raw, "fuzz.reg");
  if (!r.is_ok()) {
    const std::string& m = r.status().message();
    FUZZ_CHECK(m.rfind("fuzz.reg", 0) == 0);
    FUZZ_CHECK(m.find('\n') == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(r->size() > 0);
  const std::set<uint32_t> distinct(r->ids().begin(), r->ids().end());
  FUZZ_CHECK(distinct.size() == r->size());
  std::string printed;
  for (uint32_t id : r->ids()) printed += std::to_string(id) + "\n";
  auto again = AccountRegistry::parse(printed, "again");
  FUZZ_CHECK(again.is_ok());
  FUZZ_CHECK(again->ids() == r->ids());
  for (uint32_t outer : {0u, 1u, 255u}) {
    FUZZ_CHECK(r->symbols(outer)[0] == telltale::fingerprint_symbol(r->ids()[0], outer));
  }
  return 0;
}
