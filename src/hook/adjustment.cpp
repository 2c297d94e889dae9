// The antidistillation adjustment: checks, the dense and candidate paths (the same arithmetic per id, so both give
// the same bits), and the top-k bound. kAdd needs no key; kGreenAligned reads the step's KGW green set.
#include "hook/adjustment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "hook/hook_impl.hpp"

namespace telltale::detail {
namespace {

bool green_aligned(const Adjustment& a) { return a.kind == AdjustmentKind::kGreenAligned; }

const float* values_of(const Adjustment& a, int64_t r) { return a.values + r * a.row_stride; }

// The ids whose green status the green mass sums over: the adjustment's row within the vocabulary.
uint32_t green_span(const HookImpl& impl, const Adjustment& a) {
  return static_cast<uint32_t>(std::min<int64_t>(a.n_vocab, impl.params.vocab_size));
}

// Calls use(id, green) for every id in [0, n), in increasing order, kBatch ids per keystream call.
template <typename Use>
void for_each_green(const HookImpl& impl, SeqState& seq, const StepKeys& keys, uint32_t n, Use use) {
  Workspace& ws = HookImpl::workspace(seq);
  for (uint32_t base = 0; base < n; base += Workspace::kBatch) {
    const uint32_t m = std::min<uint32_t>(Workspace::kBatch, n - base);
    for (uint32_t i = 0; i < m; ++i) ws.ids[i] = base + i;
    keys.values_ascending(ws.ids.data(), m, ws.values.data());
    for (uint32_t i = 0; i < m; ++i) use(base + i, kgw::is_green(impl.kgw, ws.values[i]));
  }
}

// L: the proxy's mass on the step's green ids, summed in id order (the same sum on every path).
double green_mass(const HookImpl& impl, SeqState& seq, const StepKeys& keys, const Adjustment& a, const float* q) {
  double mass = 0;
  for_each_green(impl, seq, keys, green_span(impl, a), [&](uint32_t id, bool green) {
    if (green) mass += q[id];
  });
  return mass;
}

// One id's adjusted logit. Every path goes through these two, so a dense row and a candidate list agree bit for bit.
float add_term(float x, float lambda, float value) { return x + lambda * value; }
float aligned_term(float x, double lambda, float q, bool green, double mass) {
  return x + static_cast<float>(lambda * q * ((green ? 1.0 : 0.0) - mass));
}

}  // namespace

Status check_adjustment(const HookImpl& impl, const Adjustment& a, int64_t n_rows, int64_t n_vocab) {
  if (!std::isfinite(a.lambda)) return invalid_argument("the antidistillation lambda must be finite");
  if (a.kind != AdjustmentKind::kAdd && a.kind != AdjustmentKind::kGreenAligned) {
    return invalid_argument("unknown antidistillation adjustment kind");
  }
  if (!a.active()) return Status::ok();
  if (green_aligned(a) && impl.params.scheme != SchemeKind::kKgw && impl.params.scheme != SchemeKind::kFingerprint) {
    return unsupported(std::string("the green-aligned adjustment needs a green set: the ") +
                       scheme_name(impl.params.scheme) + " scheme has none (use kgw or fingerprint)");
  }
  const int64_t rows = n_vocab < 0 ? 1 : n_rows;
  if (a.n_rows != rows) {
    return invalid_argument("the adjustment has " + std::to_string(a.n_rows) + " rows where " + std::to_string(rows) +
                            " are needed");
  }
  if (a.n_vocab < 1 || (n_vocab >= 0 && a.n_vocab != n_vocab)) {
    return invalid_argument("the adjustment row has " + std::to_string(a.n_vocab) + " entries where " +
                            (n_vocab >= 0 ? std::to_string(n_vocab) : std::string("at least 1")) + " are needed");
  }
  if (a.row_stride < a.n_vocab) return invalid_argument("the adjustment's row stride is shorter than its rows");
  for (int64_t r = 0; r < rows; ++r) {
    const float* v = values_of(a, r);
    // One pass that the compiler vectorises: a NaN fails both compares.
    const float lo = green_aligned(a) ? 0.0f : -std::numeric_limits<float>::max();
    const float hi = green_aligned(a) ? 1.0f : std::numeric_limits<float>::max();
    int64_t bad = 0;
    for (int64_t i = 0; i < a.n_vocab; ++i) bad += !(v[i] >= lo && v[i] <= hi);
    if (bad != 0) {
      return invalid_argument(green_aligned(a) ? "the green-aligned adjustment's values must be probabilities in [0, 1]"
                                               : "the adjustment's values must be finite");
    }
  }
  return Status::ok();
}

void adjust_row(const HookImpl& impl, SeqState& seq, const StepKeys* keys, const Adjustment& a, int64_t r, float* row,
                int64_t n_vocab) {
  if (!a.active()) return;
  const float* v = values_of(a, r);
  if (!green_aligned(a)) {
    const float lambda = a.lambda;
    for (int64_t i = 0; i < n_vocab; ++i) row[i] = add_term(row[i], lambda, v[i]);
    return;
  }
  if (keys == nullptr) return;
  const double mass = green_mass(impl, seq, *keys, a, v);
  const uint32_t n = green_span(impl, a);
  for_each_green(impl, seq, *keys, n,
                 [&](uint32_t id, bool green) { row[id] = aligned_term(row[id], a.lambda, v[id], green, mass); });
  for (int64_t i = n; i < n_vocab; ++i) row[i] = aligned_term(row[i], a.lambda, v[i], false, mass);
}

void adjust_list(const HookImpl& impl, SeqState& seq, const StepKeys* keys, const Adjustment& a, CandidateList list) {
  if (!a.active()) return;
  const float* v = values_of(a, 0);
  const auto inside = [&](uint32_t id) { return static_cast<int64_t>(id) < a.n_vocab; };  // a negative id is huge
  if (!green_aligned(a)) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (inside(list.id(i))) list.logit(i) = add_term(list.logit(i), a.lambda, v[list.id(i)]);
    }
    return;
  }
  if (keys == nullptr) return;
  const double mass = green_mass(impl, seq, *keys, a, v);
  const uint32_t vocab = impl.params.vocab_size;
  keys->for_each_value(
      list.size(), [list](size_t i) { return list.id(i); },
      [&](size_t i, uint32_t value) {
        const uint32_t id = list.id(i);
        if (!inside(id)) return;
        const bool green = id < vocab && kgw::is_green(impl.kgw, value);
        list.logit(i) = aligned_term(list.logit(i), a.lambda, v[id], green, mass);
      });
}

float adjustment_ceiling(const Adjustment& a) {
  if (!a.active()) return 0.0f;
  const float* v = values_of(a, 0);
  float top = 0.0f;
  if (green_aligned(a)) {
    for (int64_t i = 0; i < a.n_vocab; ++i) top = std::max(top, v[i]);
    // |1[green] - L| <= 1, and a float rounding of the product: one ulp of headroom.
    return std::nextafter(std::fabs(a.lambda) * top, std::numeric_limits<float>::infinity());
  }
  for (int64_t i = 0; i < a.n_vocab; ++i) top = std::max(top, a.lambda * v[i]);
  return top;
}

float adjusted_floor(const Adjustment& a, int32_t id, float x) {
  if (!a.active() || id < 0 || id >= a.n_vocab) return x;
  const float v = values_of(a, 0)[id];
  if (!green_aligned(a)) return add_term(x, a.lambda, v);
  return std::nextafter(x - std::fabs(a.lambda) * v, -std::numeric_limits<float>::infinity());
}

}  // namespace telltale::detail
