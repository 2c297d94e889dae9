// `radioactivity filter` as a library call: the teacher-context filter built from the teacher's text, sized for its
// windows, written to a new file (format: spec/radioactivity.md, section 4).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "input/tokenizer.hpp"
#include "radio/teacher_text.hpp"
#include "telltale/scheme.hpp"
#include "telltale/status.hpp"

namespace telltale::radio {

struct FilterRecipe {
  TeacherText text;
  SchemeParams params;       // fixes the window: the ids a scored token's context holds
  uint64_t expected = 0;     // contexts to size the filter for; 0: count the windows first (not possible on stdin)
  double target_fpr = 1e-3;  // false-positive rate at that size, in (0, 0.5]
  // Asked, once the filter's size is known and before it is allocated, whether `bytes` of memory may be taken for
  // `what` (the command line refuses more than the machine has available); none: no check.
  std::function<Status(uint64_t bytes, const std::string& what)> check_memory;
};

// What was written, as `radioactivity filter` reports it.
struct FilterSummary {
  uint32_t window_size = 0;
  uint64_t windows_inserted = 0;   // every window of every document, repeats included
  uint64_t distinct_estimate = 0;  // insertions that set a new bit
  uint64_t bits = 0;
  uint32_t probes = 0;
  double false_positive_rate = 0;  // measured on the filter as written
};

// Builds the filter and writes it to `out`, which must not exist. Errors name the file (and line) at fault.
Result<FilterSummary> write_context_filter(const FilterRecipe& recipe, const input::Tokenizer& tokenizer,
                                           const std::string& out);

}  // namespace telltale::radio
