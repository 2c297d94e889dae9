// The test-only "parity" scheme (parity.hpp): generation adds kDelta to every id whose keyed bit is 1, detection scores
// a token 1 when its keyed bit is 1, and the null law is Bernoulli(1/2).
#include "test_scheme/parity.hpp"

#include <cstdio>

#include "hook/hook_impl.hpp"
#include "schemes/sampling.hpp"

namespace telltale::parity {
namespace {

void describe(const SchemeParams&, char* buf, size_t size) { std::snprintf(buf, size, "scheme=parity"); }
NullModel null_model(const SchemeParams&) { return {NullKind::kBernoulli, 0.5, 1}; }
constexpr SchemeWords kWords = {
    "1 = the token's keyed bit is 1", "bit 1",
    "A test scheme: ids whose keyed bit is 1 were made more likely, and the test counts them."};

Status setup(detail::HookImpl& impl, const KeyRing&) {
  impl.bits = kBits;
  return Status::ok();
}

float max_bias(const detail::HookImpl&) { return kDelta; }

template <typename List>
void bias(const detail::StepKeys& keys, List list, uint32_t vocab_size) {
  keys.for_each_value(
      list.size(), [list](size_t i) { return list.id(i); },
      [&](size_t i, uint32_t value) {
        if (list.id(i) < vocab_size && value == 1) list.logit(i) += kDelta;
      });
}

void bias_row(const detail::HookImpl&, SeqState&, const detail::StepKeys& keys, float* row, uint32_t n, int64_t,
              uint32_t) {
  bias(keys, detail::DenseList{row, n}, n);
}

void bias_list(const detail::HookImpl& impl, SeqState&, const detail::StepKeys& keys, detail::CandidateList list) {
  bias(keys, list, impl.params.vocab_size);
}

template <typename List>
ptrdiff_t choose(const detail::HookImpl& impl, SeqState&, const detail::StepKeys& keys, List list, double uniform) {
  bias(keys, list, impl.params.vocab_size);
  return detail::sample_list(list, impl.params.vocab_size, uniform);
}

void score(const detail::HookImpl& impl, const uint32_t* values, const int32_t* tokens, size_t n, double* out) {
  detail::score_tokens(impl.params.vocab_size, values, tokens, n, out,
                       [](uint32_t value) { return static_cast<double>(value == 1); });
}

const detail::SchemeOps kOps = {
    SchemeKind::kTestParity,       setup, false, max_bias, bias_row, bias_list, choose<detail::DenseList>,
    choose<detail::CandidateList>, score};

}  // namespace

extern const SchemeInfo kInfo = {SchemeKind::kTestParity,
                                 "parity",
                                 "test only: a fixed bias on ids whose keyed bit is 1",
                                 "tt-tst01",
                                 false,
                                 detail::no_own_parameters,
                                 describe,
                                 null_model,
                                 detail::fixed_words<kWords>,
                                 &kOps};

}  // namespace telltale::parity
