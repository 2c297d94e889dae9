// The registry of issued account ids that attribution tests against (format: spec/fingerprint.md section 6), with
// each account's Reed-Solomon symbols laid out for the decoder: symbols(outer) holds symbol `outer` of every account,
// in registry order, so that scoring all accounts at one outer position is one pass over contiguous bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "telltale/fingerprint.hpp"
#include "telltale/status.hpp"

namespace telltale::attrib {

inline constexpr size_t kMaxRegistryLineBytes = 256;
inline constexpr size_t kMaxRegistryAccounts = size_t{1} << 26;  // 67 million: 17 GB of symbols would be needed above

class AccountRegistry {
 public:
  // Parses a registry file's bytes; `name` prefixes every error ("name:line: ..."). Errors: a line that is not a
  // decimal id (or a comment/blank line), an id above 4294967295, a duplicate id (naming the line of the first),
  // a line longer than kMaxRegistryLineBytes, a NUL byte, more than kMaxRegistryAccounts ids, no id at all.
  static Result<AccountRegistry> parse(std::string_view bytes, const std::string& name);
  // Reads and parses a file (kIo if it cannot be read).
  static Result<AccountRegistry> read_file(const std::string& path);
  // From ids already in memory (tests, benches); the same checks as parse.
  static Result<AccountRegistry> from_ids(std::span<const uint32_t> ids);

  size_t size() const { return ids_.size(); }
  const std::vector<uint32_t>& ids() const { return ids_; }
  // Symbol `outer` (0..255) of every account, in registry order.
  std::span<const uint8_t> symbols(uint32_t outer) const {
    return {symbols_.data() + size_t{outer} * ids_.size(), ids_.size()};
  }

 private:
  AccountRegistry() = default;
  void build_symbols();
  std::vector<uint32_t> ids_;
  std::vector<uint8_t> symbols_;  // kFingerprintSymbols x size(), outer-major
};

}  // namespace telltale::attrib
