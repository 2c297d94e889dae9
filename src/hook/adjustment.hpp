// Internal: the antidistillation adjustment (telltale/hook.hpp's Adjustment), added to a dense row or a candidate
// list before the scheme's bias or draw, with the bound that keeps a candidate list's top-k pruning exact.
#pragma once

#include <cstdint>

#include "schemes/scheme_ops.hpp"
#include "telltale/hook.hpp"

namespace telltale::detail {

struct HookImpl;

// Checks an adjustment before anything is written: lambda finite, a known kind the scheme supports, the shape (dense:
// n_rows and n_vocab equal to the logits'; candidates, n_vocab < 0: one row), and every value finite (kGreenAligned:
// in [0, 1]). No adjustment (values null or lambda 0) is always valid.
Status check_adjustment(const HookImpl& impl, const Adjustment& a, int64_t n_rows, int64_t n_vocab);

// Adds row r of the adjustment to row[0..n_vocab). `keys`: the step's keys when it is watermarked, nullptr when not
// (a kGreenAligned adjustment then leaves the row alone).
void adjust_row(const HookImpl& impl, SeqState& seq, const StepKeys* keys, const Adjustment& a, int64_t r, float* row,
                int64_t n_vocab);
// The same for a candidate list (row 0 of the adjustment, indexed by id).
void adjust_list(const HookImpl& impl, SeqState& seq, const StepKeys* keys, const Adjustment& a, CandidateList list);

// The largest amount the adjustment can add to any id (>= 0: an id outside its row gets 0), and a lower bound on the
// adjusted logit of candidate `id` whose logit is x: together they keep the top-k check of a candidate list exact.
float adjustment_ceiling(const Adjustment& a);
float adjusted_floor(const Adjustment& a, int32_t id, float x);

}  // namespace telltale::detail
