// Numeric flags: the syntax is checked by hand before std::from_chars reads the value, so that nothing CLI11's
// strtoull/strtold would quietly accept (a sign on an unsigned, hex, octal, "inf", an overflow) gets through.
#include "numeric_flags.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

namespace telltale::cli {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// [+-]digits[.digits][(e|E)[+-]digits], with a digit on at least one side of the point.
bool decimal_syntax(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!all_digits(s.substr(i))) return false;
    return true;
  }
  return i == s.size();
}

std::string number_text(double x) { return fmt::format("{:g}", x); }

std::string size_text(double bytes) {
  return bytes >= 1e9 ? fmt::format("{:.1f} GB", bytes / 1e9) : fmt::format("{:.0f} MB", std::ceil(bytes / 1e6));
}

// Bytes the system could give this process now without swapping; 0 when unknown.
uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string name;
  uint64_t kib = 0;
  std::string unit;
  while (in >> name >> kib >> unit)
    if (name == "MemAvailable:") return kib * 1024;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

// The strict syntax and the widest range of a signed integer option.
CLI::Validator signed_whole_number() {
  return CLI::Validator(
      [](std::string& value) {
        const std::string_view digits = std::string_view(value).substr(!value.empty() && value[0] == '-' ? 1 : 0);
        int64_t v = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (!all_digits(digits) || ec != std::errc() || end != value.data() + value.size())
          return std::string("must be a whole number (decimal digits, optionally after '-')");
        return std::string();
      },
      "", "whole number");
}

}  // namespace

CLI::Validator whole_number(uint64_t lo, uint64_t hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& value) {
        uint64_t v = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (!all_digits(value) || ec != std::errc() || end != value.data() + value.size() || v < lo || v > hi)
          return "must be a whole number in " + range;
        return std::string();
      },
      "in " + range, "whole number");
}

CLI::Validator real_number(double lo, double hi, End lo_end, End hi_end) {
  const bool unbounded = lo == -std::numeric_limits<double>::max() && hi == std::numeric_limits<double>::max();
  const std::string range = unbounded ? std::string()
                                      : std::string(lo_end == End::kOpen ? "(" : "[") + number_text(lo) + ", " +
                                            number_text(hi) + (hi_end == End::kOpen ? ")" : "]");
  return CLI::Validator(
      [=](std::string& value) {
        double v = 0;
        // from_chars takes no leading '+'; the syntax check has already allowed it.
        const size_t skip = !value.empty() && value[0] == '+' ? 1 : 0;
        const auto [end, ec] = std::from_chars(value.data() + skip, value.data() + value.size(), v);
        const bool read = decimal_syntax(value) && ec == std::errc() && end == value.data() + value.size();
        const bool inside = read && std::isfinite(v) && (lo_end == End::kOpen ? v > lo : v >= lo) &&
                            (hi_end == End::kOpen ? v < hi : v <= hi);
        if (inside) return std::string();
        return unbounded ? std::string("must be a finite decimal number") : "must be a number in " + range;
      },
      range.empty() ? std::string() : "in " + range, "number");
}

CLI::Validator significance_level() { return real_number(0, 1, End::kOpen, End::kOpen); }

CLI::Validator hex_digits(size_t digits) {
  return CLI::Validator(
      [digits](std::string& value) {
        bool hex = value.size() == digits;
        for (char& c : value) {
          hex = hex && std::isxdigit(static_cast<unsigned char>(c));
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return hex ? std::string() : "must be " + std::to_string(digits) + " hexadecimal digits";
      },
      std::to_string(digits) + " hex digits", "hex digits");
}

void make_numeric_options_strict(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();
    if (type == "UINT")
      option->check(whole_number(0, std::numeric_limits<uint64_t>::max()));
    else if (type == "INT")
      option->check(signed_whole_number());
    else if (type == "FLOAT")
      option->check(real_number(-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()));
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) make_numeric_options_strict(*sub);
}

Status check_seed_span(uint64_t first, uint64_t count) {
  if (count > 0 && count - 1 > std::numeric_limits<uint64_t>::max() - first)
    return invalid_argument("--seed " + std::to_string(first) + " with " + std::to_string(count) +
                            " texts runs past the largest seed, 18446744073709551615 (the seeds would wrap to 0); "
                            "give a --seed of at most " +
                            std::to_string(std::numeric_limits<uint64_t>::max() - (count - 1)));
  return Status::ok();
}

Status check_memory_for(uint64_t bytes, const std::string& what) {
  const uint64_t available = available_memory_bytes();
  if (available == 0 || bytes <= available) return Status::ok();
  return Status(StatusCode::kNoMemory, what + " would need " + size_text(static_cast<double>(bytes)) +
                                           " of memory; this machine has " + size_text(static_cast<double>(available)) +
                                           " available");
}

}  // namespace telltale::cli
