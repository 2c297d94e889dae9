// Parsing the account registry: one decimal id per line, '#' comments and blank lines allowed; every refusal is one
// line naming the file and line.
#include "attrib/account_registry.hpp"

#include <unordered_map>

#include "input/input_stream.hpp"

namespace telltale::attrib {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (s.size() > 40) out += "...";
  return "'" + out + "'";
}

}  // namespace

Result<AccountRegistry> AccountRegistry::parse(std::string_view bytes, const std::string& name) {
  AccountRegistry r;
  std::unordered_map<uint32_t, uint64_t> first_line;
  uint64_t line_no = 0;
  size_t pos = 0;
  while (pos < bytes.size()) {
    ++line_no;
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(pos, end - pos);
    pos = end + 1;
    const std::string where = name + ":" + std::to_string(line_no) + ": ";
    if (line.size() > kMaxRegistryLineBytes) {
      return invalid_argument(where + "line longer than " + std::to_string(kMaxRegistryLineBytes) + " bytes");
    }
    if (line.find('\0') != std::string_view::npos) return invalid_argument(where + "NUL byte in a registry line");
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    uint64_t value = 0;
    for (char c : line) {
      if (c < '0' || c > '9') {
        return invalid_argument(where + shown(line) + " is not an account id (one decimal id per line, '#' comments)");
      }
      value = value * 10 + static_cast<uint64_t>(c - '0');
      if (value > 0xffffffffull) {
        return invalid_argument(where + "account id " + shown(line) + " is out of range (ids are 0 .. 4294967295)");
      }
    }
    if (line.size() > 1 && line.front() == '0') {
      return invalid_argument(where + shown(line) + " has a leading zero (write ids in plain decimal)");
    }
    const auto id = static_cast<uint32_t>(value);
    const auto [it, fresh] = first_line.emplace(id, line_no);
    if (!fresh) {
      return invalid_argument(where + "duplicate account id " + std::to_string(id) + " (first on line " +
                              std::to_string(it->second) + ")");
    }
    if (r.ids_.size() == kMaxRegistryAccounts) {
      return invalid_argument(where + "more than " + std::to_string(kMaxRegistryAccounts) + " accounts");
    }
    r.ids_.push_back(id);
  }
  if (r.ids_.empty()) return invalid_argument(name + ": the registry holds no account id");
  r.build_symbols();
  return r;
}

Result<AccountRegistry> AccountRegistry::read_file(const std::string& path) {
  auto bytes = input::read_input_file(path, "the account registry", "an account registry");
  if (!bytes) return bytes.status();
  return parse(*bytes, path);
}

Result<AccountRegistry> AccountRegistry::from_ids(std::span<const uint32_t> ids) {
  std::string text;
  for (uint32_t id : ids) text += std::to_string(id) + "\n";
  return parse(text, "<registry>");
}

void AccountRegistry::build_symbols() {
  const size_t n = ids_.size();
  symbols_.resize(size_t{kFingerprintSymbols} * n);
  for (uint32_t outer = 0; outer < kFingerprintSymbols; ++outer) {
    uint8_t* row = symbols_.data() + size_t{outer} * n;
    for (size_t a = 0; a < n; ++a) row[a] = fingerprint_symbol(ids_[a], outer);
  }
}

}  // namespace telltale::attrib
