// Strict values for the CLI's numeric flags: plain decimal text, finite, inside a stated range, or a one-line refusal
// that gives the range. CLI11 alone saturates huge integers, reads "010" as octal and "0x10" as hex, takes "inf".
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "telltale/status.hpp"

namespace telltale::cli {

// A whole number in [lo, hi], written with decimal digits only (no sign, exponent, prefix or space).
CLI::Validator whole_number(uint64_t lo, uint64_t hi);

// Whether an end of a real range belongs to it.
enum class End { kClosed, kOpen };

// A finite decimal number (digits, an optional fraction and exponent) in the range [lo, hi], each end excluded when
// it is End::kOpen. A float option needs ends that a float holds (lo >= about 1.2e-38 when it must be positive).
CLI::Validator real_number(double lo, double hi, End lo_end = End::kClosed, End hi_end = End::kClosed);

// A significance level: a number in (0, 1).
CLI::Validator significance_level();

// `digits` hexadecimal digits in either case, turned to lower case (the case our digests are printed in, so that
// they compare equal): give it to Option::transform, which lets it change the value.
CLI::Validator hex_digits(size_t digits);

// Gives every integer and real option of `app` and its subcommands the strict syntax above with the widest range of
// its type, for the options that state no narrower one. Call once, after every command is added: checks added
// before it (the per-flag ranges) speak first.
void make_numeric_options_strict(CLI::App& app);

// Seeds `first`, `first` + 1, ..., for `count` texts must not wrap past 2^64 - 1.
Status check_seed_span(uint64_t first, uint64_t count);

// Refuses to allocate `bytes` for `what` when that is more than the memory the system has available now (Linux:
// MemAvailable), with a message saying how much it would need; fine when the available memory cannot be read.
Status check_memory_for(uint64_t bytes, const std::string& what);

}  // namespace telltale::cli
