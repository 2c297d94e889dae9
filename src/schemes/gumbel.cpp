// The Gumbel scheme's entry in the scheme table: its checks, description, null law and report words, and the draw
// and score of gumbel.hpp as the functions the hook and the detector call.
#include <cstdio>

#include "hook/hook_impl.hpp"
#include "schemes/gumbel.hpp"

namespace telltale::gumbel {
namespace {

void describe(const SchemeParams&, char* buf, size_t size) { std::snprintf(buf, size, "scheme=gumbel"); }
NullModel null_model(const SchemeParams&) { return {NullKind::kExponential, 1.0, 1}; }
constexpr SchemeWords kWords = {
    "per-token score -ln(1 - r)", "mean s",
    "When the text was generated, the secret key and the preceding tokens gave every vocabulary entry a "
    "pseudorandom number, and the token was drawn in a way that favours tokens with large numbers without "
    "changing the model's output distribution. The test recomputes each chosen token's number r and adds "
    "up \u2212ln(1\u00a0\u2212\u00a0r). Text that never saw the key gives a Gamma-distributed sum; the "
    "p-value is its exact upper tail."};

Status setup(detail::HookImpl& impl, const KeyRing&) {
  impl.bits = kBits;
  return Status::ok();
}

float max_bias(const detail::HookImpl&) { return 0.0f; }  // no bias form

ptrdiff_t choose_row_op(const detail::HookImpl&, SeqState& seq, const detail::StepKeys& keys, detail::DenseList list,
                        double) {
  return choose_row(keys, detail::HookImpl::workspace(seq), list.row, static_cast<uint32_t>(list.n));
}

ptrdiff_t choose_list_op(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys,
                         detail::CandidateList list, double) {
  return choose(keys, detail::HookImpl::workspace(seq), list, impl.params.vocab_size);
}

void score_op(const detail::HookImpl& impl, const uint32_t* values, const int32_t* tokens, size_t n, double* out) {
  detail::score_tokens(impl.params.vocab_size, values, tokens, n, out, [](uint32_t value) { return score(value); });
}

// No bias form: the draw is the watermark (bias_row and bias_list are null: the hook says to use choose).
const detail::SchemeOps kOps = {SchemeKind::kGumbel, setup,          false,   max_bias, nullptr, nullptr,
                                choose_row_op,       choose_list_op, score_op};

}  // namespace

extern const SchemeInfo kInfo = {SchemeKind::kGumbel,
                                 "gumbel",
                                 "Gumbel-max sampling (Aaronson 2022), distortion-free",
                                 "tt-gmb01",
                                 true,
                                 detail::no_own_parameters,
                                 describe,
                                 null_model,
                                 detail::fixed_words<kWords>,
                                 &kOps};

}  // namespace telltale::gumbel
