// Builds the teacher-context filter: one pass to count the windows (unless the caller sized it), one to insert them.
#include "radio/filter_build.hpp"

#include <new>
#include <string>

#include "radio/context_filter.hpp"
#include "telltale/new_file.hpp"

namespace telltale::radio {

Result<FilterSummary> write_context_filter(const FilterRecipe& recipe, const input::Tokenizer& tokenizer,
                                           const std::string& out) {
  TT_RETURN_IF_ERROR(check_new_path(out));
  const uint32_t w = window_size(recipe.params);  // the hook's rule (telltale/scheme.hpp)
  if (w == 0) return invalid_argument("self-hash with h = 1 has no context window to filter on");
  uint64_t expected = recipe.expected;
  if (expected == 0 && recipe.text.reads_stdin())
    return invalid_argument("reading stdin: give --expected (the inputs cannot be read twice)");
  if (expected == 0) {  // one pass to count the windows, so the filter is sized for them
    TT_RETURN_IF_ERROR(for_each_teacher_document(recipe.text, tokenizer,
                                                 [&expected, w](const input::Document&, std::span<const int32_t> ids) {
                                                   if (ids.size() >= w) expected += ids.size() - w + 1;
                                                   return Status::ok();
                                                 }));
  }
  auto bits = ContextFilter::bits_for(expected, recipe.target_fpr);
  if (!bits) return bits.status();
  const std::string sizing =
      (recipe.expected > 0 ? "--expected " : "the inputs' ") + std::to_string(expected) + " contexts: the filter";
  if (recipe.check_memory) {
    if (Status m = recipe.check_memory(*bits / 8, sizing); !m.is_ok())
      return Status(m.code(), m.message() + " (a larger --fpr needs less)");
  }
  Result<ContextFilter> filter = Status(StatusCode::kNoMemory, "");
  try {  // a memory check can be beaten by other programs taking memory in the meantime
    filter = ContextFilter::create(w, expected, recipe.target_fpr);
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kNoMemory,
                  sizing + ": out of memory allocating its " + std::to_string(*bits / 8) + " bytes");
  }
  if (!filter) return filter.status();
  FilterSummary summary;
  TT_RETURN_IF_ERROR(
      for_each_teacher_document(recipe.text, tokenizer, [&](const input::Document&, std::span<const int32_t> ids) {
        for (size_t i = w; i <= ids.size(); ++i, ++summary.windows_inserted) filter->insert(ids.subspan(i - w, w));
        return Status::ok();
      }));
  TT_RETURN_IF_ERROR(filter->write(out));
  summary.window_size = w;
  summary.distinct_estimate = filter->inserted();
  summary.bits = filter->bits();
  summary.probes = filter->probes();
  summary.false_positive_rate = filter->false_positive_rate();
  return summary;
}

}  // namespace telltale::radio
