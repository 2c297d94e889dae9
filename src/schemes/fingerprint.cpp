// The fingerprint scheme's entry in the scheme table: KGW's zero-bit layer (its checks, null law and score are KGW's)
// plus the account layer of fingerprint.hpp in every generation path.
#include <cstdio>

#include "hook/hook_impl.hpp"
#include "schemes/fingerprint.hpp"
#include "schemes/sampling.hpp"

namespace telltale::fingerprint {
namespace {

Status validate(const SchemeParams& p) {
  if (p.self_hash) return invalid_argument("the fingerprint scheme uses left-hash seeding (self_hash must be off)");
  if (!(p.fingerprint.account_delta >= 0 && p.fingerprint.account_delta <= 1000)) {
    return invalid_argument("the account layer's delta must be in [0, 1000] logits");
  }
  return kgw::validate_layer(p);
}

void describe(const SchemeParams& p, char* buf, size_t size) {
  std::snprintf(buf, size, "scheme=fingerprint gamma=%.17g effective_gamma=%.17g delta=%.9g account_delta=%.9g",
                p.kgw.gamma, kgw_layout(p.kgw.gamma).effective_gamma(), static_cast<double>(p.kgw.delta),
                static_cast<double>(p.fingerprint.account_delta));
}

constexpr SchemeWords kWords = {
    "0 = red token, 1 = green token (the zero-bit layer)", "green",
    "When the text was generated, it carried two marks. The first is the red/green watermark: the secret "
    "key and the few tokens before each position split the vocabulary into a small \u201cgreen\u201d part "
    "and a \u201cred\u201d rest, and green tokens were made more likely. The second layer carries the "
    "account's id and is read only when attributing text to an account. This test reads the first mark: it "
    "recomputes the split at every position with the key and counts green tokens. Text that never saw the "
    "key hits green only by chance (a fixed fraction, gamma), so the count follows a binomial law; the "
    "p-value is its exact upper tail."};

Status setup(detail::HookImpl& impl, const KeyRing& keys) {
  TT_RETURN_IF_ERROR(impl.derive_account_keys(keys));
  return kgw::kInfo.ops->setup(impl, keys);  // the zero-bit layer
}

float max_bias(const detail::HookImpl& impl) { return impl.kgw.delta + impl.fingerprint.delta; }

// Both layers over the full row (no top-k pruning: the two deltas add on some ids).
void bias_both_layers_row(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys, float* row,
                          uint32_t n, int64_t, uint32_t) {
  kgw::bias_row(impl.kgw, keys, detail::HookImpl::workspace(seq), row, n);
  impl.bias_account(seq, keys, detail::DenseList{row, n}, n);
}

void bias_both_layers_list(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys,
                           detail::CandidateList list) {
  kgw::bias_list(impl.kgw, keys, list, impl.params.vocab_size);
  impl.bias_account(seq, keys, list, impl.params.vocab_size);
}

template <typename List>
ptrdiff_t choose_both_layers(const detail::HookImpl& impl, SeqState& seq, const detail::StepKeys& keys, List list,
                             double uniform) {
  const uint32_t vocab = impl.params.vocab_size;
  kgw::bias_list(impl.kgw, keys, list, vocab);
  impl.bias_account(seq, keys, list, vocab);
  return detail::sample_list(list, vocab, uniform);
}

// The zero-bit layer's score, KGW's; the account layer is read by Detector::account_marks.
void score_zero_bit_layer(const detail::HookImpl& impl, const uint32_t* values, const int32_t* tokens, size_t n,
                          double* out) {
  detail::score_tokens(impl.params.vocab_size, values, tokens, n, out,
                       [c = impl.kgw](uint32_t value) { return static_cast<double>(kgw::is_green(c, value)); });
}

const detail::SchemeOps kOps = {SchemeKind::kKgw,
                                setup,
                                false,
                                max_bias,
                                bias_both_layers_row,
                                bias_both_layers_list,
                                choose_both_layers<detail::DenseList>,
                                choose_both_layers<detail::CandidateList>,
                                score_zero_bit_layer};

}  // namespace

extern const SchemeInfo kInfo = {SchemeKind::kFingerprint,
                                 "fingerprint",
                                 "kgw plus a layer that carries the account id",
                                 "tt-fpr01",
                                 false,
                                 validate,
                                 describe,
                                 kgw::null_model,
                                 detail::fixed_words<kWords>,
                                 &kOps};

}  // namespace telltale::fingerprint
