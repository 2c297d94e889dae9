// The hook: the sampler side of every scheme. The scheme's functions (its scheme-table entry's SchemeOps) are picked
// when the hook is made; each row or candidate list then makes one call through them.
#include "telltale/hook.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <type_traits>

#include "hook/adjustment.hpp"
#include "hook/hook_impl.hpp"
#include "schemes/sampling.hpp"

namespace telltale {

namespace {

Status check_view(const LogitsView& v, size_t rows) {
  if (v.data == nullptr) return invalid_argument("logits data is null");
  if (v.n_vocab < 1 || v.row_stride < v.n_vocab || v.n_rows < 0) return invalid_argument("bad logits shape or stride");
  if (static_cast<size_t>(v.n_rows) != rows) return invalid_argument("one sequence state per logits row is required");
  return Status::ok();
}

}  // namespace

// ---- Hook ----

Hook::Hook(std::unique_ptr<detail::HookImpl> impl) : impl_(std::move(impl)) {}
Hook::Hook(Hook&&) noexcept = default;
Hook& Hook::operator=(Hook&&) noexcept = default;
Hook::~Hook() = default;

const SchemeParams& Hook::params() const { return impl_->params; }

Status detail::HookImpl::derive_account_keys(const KeyRing& keys) {
  auto sub = SecretBytes::allocate(kSeederKeyBytes + kKeystreamKeyBytes);
  if (!sub) return sub.status();
  account_subkeys = std::move(sub).value();
  TT_RETURN_IF_ERROR(
      keys.derive(SchemeKind::kFingerprint, KeyPurpose::kSeeder, 0, {account_subkeys.data(), kSeederKeyBytes}));
  TT_RETURN_IF_ERROR(keys.derive(SchemeKind::kFingerprint, KeyPurpose::kAccount, 0,
                                 {account_subkeys.data() + kSeederKeyBytes, kKeystreamKeyBytes}));
  account_seeder = Seeder(std::span<const uint8_t, kSeederKeyBytes>(account_subkeys.data(), kSeederKeyBytes));
  fingerprint.delta = params.fingerprint.account_delta;
  return Status::ok();
}

Status detail::HookImpl::open_keystreams(Keystream& keystream, Keystream& account_keystream) const {
  auto ks = Keystream::create(keystream_key());
  if (!ks) return ks.status();
  keystream = std::move(ks).value();
  if (has_account_layer()) {
    auto aks = Keystream::create(account_keystream_key());
    if (!aks) return aks.status();
    account_keystream = std::move(aks).value();
  }
  return Status::ok();
}

Status detail::HookImpl::copy_from(const HookImpl& src) {
  params = src.params;
  ops = src.ops;
  for (auto [to, from] : {std::pair{&subkeys, &src.subkeys}, std::pair{&account_subkeys, &src.account_subkeys}}) {
    if (from->size() == 0) continue;
    auto sub = SecretBytes::allocate(from->size());
    if (!sub) return sub.status();
    *to = std::move(sub).value();
    std::memcpy(to->data(), from->data(), from->size());
  }
  seeder = Seeder(std::span<const uint8_t, kSeederKeyBytes>(subkeys.data(), kSeederKeyBytes));
  if (account_subkeys.size() > 0) {
    account_seeder = Seeder(std::span<const uint8_t, kSeederKeyBytes>(account_subkeys.data(), kSeederKeyBytes));
  }
  bits = src.bits;
  kgw = src.kgw;
  fingerprint = src.fingerprint;
  return Status::ok();
}

Result<Hook> Hook::create(const KeyRing& keys, const SchemeParams& params) {
  TT_RETURN_IF_ERROR(validate(params));
  std::unique_ptr<detail::HookImpl> impl;
  try {
    impl = std::make_unique<detail::HookImpl>();
  } catch (const std::bad_alloc&) {
    return Status{StatusCode::kNoMemory, "cannot allocate the hook"};
  }
  impl->params = params;
  impl->ops = scheme_info(params.scheme).ops;
  auto sub = SecretBytes::allocate(kSeederKeyBytes + kKeystreamKeyBytes);
  if (!sub) return sub.status();
  impl->subkeys = std::move(sub).value();
  // The keyed values' subkeys: the scheme's own, or another's (the fingerprint scheme's zero-bit layer is KGW itself,
  // under KGW's subkeys, so that the plain KGW detector finds it).
  const SchemeKind family = impl->ops->subkeys;
  TT_RETURN_IF_ERROR(keys.derive(family, KeyPurpose::kSeeder, 0, {impl->subkeys.data(), kSeederKeyBytes}));
  TT_RETURN_IF_ERROR(
      keys.derive(family, KeyPurpose::kKeystream, 0, {impl->subkeys.data() + kSeederKeyBytes, kKeystreamKeyBytes}));
  impl->seeder = Seeder(std::span<const uint8_t, kSeederKeyBytes>(impl->subkeys.data(), kSeederKeyBytes));
  TT_RETURN_IF_ERROR(impl->ops->setup(*impl, keys));
  return Hook(std::move(impl));
}

Result<SeqState> Hook::new_sequence(uint64_t account, uint64_t rng_seed) const {
  if (impl_->has_account_layer() && account > 0xffffffffull) {
    return invalid_argument("the fingerprint scheme's account ids are 32-bit: 0 .. 4294967295");
  }
  SeqState s;
  s.hook_ = impl_.get();
  s.width_ = impl_->params.context_width;
  s.account_ = account;
  s.rng_seed_ = rng_seed;
  TT_RETURN_IF_ERROR(impl_->open_keystreams(s.keystream_, s.account_keystream_));
  try {
    if (impl_->params.skip_repeated_contexts) s.history_.assign(impl_->params.context_history, 0);
    s.scratch_ = std::make_unique<SeqState::Scratch>();
    if (impl_->ops->whole_distribution) s.scratch_->tournament.reserve(impl_->params.vocab_size);
  } catch (const std::bad_alloc&) {
    return Status{StatusCode::kNoMemory, "cannot allocate sequence scratch"};
  }
  return s;
}

bool detail::HookImpl::prepare_step(SeqState& seq, StepKeys& keys) const {
  keys.keystream = &seq.keystream_;
  seq.armed_ = detail::kArmedNoContext;
  seq.armed_context_ = 0;
  const uint32_t need = window_size(params);
  const auto window = seq.window();
  if (window.size() < need) return false;
  keys.seeder = &seeder;
  keys.window = window.subspan(window.size() - need, need);
  keys.self_hash = params.self_hash;
  keys.bits = bits;
  // The context's identity for the repeated-context rule: its left-hash seed (self-hash: of the h-1 window).
  keys.seed = seeder.left_hash(keys.window);
  seq.armed_context_ = keys.seed.fingerprint();
  if (params.skip_repeated_contexts && seq.seen(seq.armed_context_)) {
    seq.armed_ = detail::kArmedRepeated;
    return false;
  }
  seq.armed_ = detail::kArmedWatermarked;
  return true;
}

Status Hook::bias(std::span<SeqState* const> rows, const LogitsView& logits, const BiasOptions& options,
                  const Adjustment& adjustment) const noexcept {
  const detail::HookImpl& impl = *impl_;
  const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(logits.n_vocab, impl.params.vocab_size));
  const detail::SchemeOps& ops = *impl.ops;
  if (ops.bias_row == nullptr) {
    return unsupported(std::string("the ") + scheme_name(impl.params.scheme) +
                       " scheme makes the draw itself: use choose (with mask_others for logit-only hosts)");
  }
  TT_RETURN_IF_ERROR(check_view(logits, rows.size()));
  TT_RETURN_IF_ERROR(detail::check_adjustment(impl, adjustment, logits.n_rows, logits.n_vocab));
  for (size_t r = 0; r < rows.size(); ++r) {
    SeqState* seq = rows[r];
    if (seq == nullptr) continue;
    if (seq->hook_ != impl_.get()) return invalid_argument("a sequence state belongs to another hook");
    float* row = logits.data + static_cast<int64_t>(r) * logits.row_stride;
    detail::StepKeys keys;
    const bool marked = impl.prepare_step(*seq, keys);
    // The whole row is adjusted, so the scheme's top-k pruning below works on the adjusted row and stays exact.
    detail::adjust_row(impl, *seq, marked ? &keys : nullptr, adjustment, static_cast<int64_t>(r), row, logits.n_vocab);
    if (!marked) continue;
    ops.bias_row(impl, *seq, keys, row, n, logits.n_vocab, options.top_k);
  }
  return Status::ok();
}

Status Hook::bias_candidates(SeqState& seq, const CandidatesView& cand, const CandidateBound& bound,
                             const Adjustment& adjustment) const noexcept {
  const detail::HookImpl& impl = *impl_;
  const detail::SchemeOps& ops = *impl.ops;
  if (ops.bias_list == nullptr) {
    return unsupported(std::string("the ") + scheme_name(impl.params.scheme) +
                       " scheme makes the draw itself: use choose_candidates");
  }
  if (seq.hook_ != impl_.get()) return invalid_argument("the sequence state belongs to another hook");
  if (cand.n > 0 && (cand.ids == nullptr || cand.logits == nullptr)) return invalid_argument("candidates are null");
  TT_RETURN_IF_ERROR(detail::check_adjustment(impl, adjustment, 1, -1));
  if (ops.whole_distribution) {
    // The scheme renormalises over every id: it needs them all, and keeps one buffer entry per vocabulary id.
    if (bound.excluded_max > -std::numeric_limits<float>::infinity()) {
      return Status{StatusCode::kIncomplete, std::string("the ") + scheme_name(impl.params.scheme) +
                                                 " needs every id with a finite logit among the candidates"};
    }
    if (cand.n > impl.params.vocab_size) return invalid_argument("more candidates than the vocabulary size");
  }
  if (bound.top_k > 0 && bound.excluded_max > -std::numeric_limits<float>::infinity()) {
    if (bound.top_k > cand.n || bound.top_k > detail::Workspace::kMaxTopK) {
      return Status{StatusCode::kIncomplete, "fewer candidates than top_k"};
    }
    // No excluded id can enter the top k iff the k-th largest candidate logit is above excluded_max + the most the
    // bias adds, i.e. iff at least k candidates are. Counting needs no heap and no branch per candidate, and stops
    // once k are found (the first k when the list is sorted, as llama.cpp's is). A NaN logit counts as not above:
    // kIncomplete, the safe side. With an adjustment, an excluded id may gain up to its ceiling, and a candidate is
    // counted by a lower bound on its adjusted logit.
    const float limit = bound.excluded_max + detail::adjustment_ceiling(adjustment) + ops.max_bias(impl);
    const CandidatesView c = cand;  // a local copy: its pointer and stride stay in registers
    size_t above = 0;
    if (adjustment.active()) {
      for (size_t j = 0; j < c.n && above < bound.top_k; ++j) {
        above += detail::adjusted_floor(adjustment, c.id(j), c.logit(j)) > limit;
      }
    }
    for (size_t i = 0; i < c.n && above < bound.top_k && !adjustment.active(); i += detail::kScanGroup) {
      const size_t end = c.n - i < detail::kScanGroup ? c.n : i + detail::kScanGroup;
      for (size_t j = i; j < end; ++j) above += c.logit(j) > limit;
    }
    if (above < bound.top_k) {
      return Status{StatusCode::kIncomplete, "an excluded id could enter the top k after the bias"};
    }
  }
  detail::StepKeys keys;
  const bool marked = impl.prepare_step(seq, keys);
  detail::adjust_list(impl, seq, marked ? &keys : nullptr, adjustment, detail::CandidateList{cand});
  if (!marked) return Status::ok();
  ops.bias_list(impl, seq, keys, detail::CandidateList{cand});
  return Status::ok();
}

template <typename List>
ptrdiff_t detail::HookImpl::choose_one(SeqState& seq, const List& list, double uniform) const {
  StepKeys keys;
  if (!prepare_step(seq, keys)) return detail::sample_list(list, params.vocab_size, uniform);
  // A dense row (ids 0..n-1, n <= vocab_size) takes the schemes' row paths, which give the same answers.
  if constexpr (std::is_same_v<List, DenseList>) {
    return ops->choose_row(*this, seq, keys, list, uniform);
  } else {
    return ops->choose_list(*this, seq, keys, list, uniform);
  }
}

Status Hook::choose(std::span<SeqState* const> rows, const LogitsView& logits, const float* uniforms,
                    int32_t* out_tokens, bool mask_others, const Adjustment& adjustment) const noexcept {
  TT_RETURN_IF_ERROR(check_view(logits, rows.size()));
  if (out_tokens == nullptr) return invalid_argument("out_tokens is null");
  const detail::HookImpl& impl = *impl_;
  TT_RETURN_IF_ERROR(detail::check_adjustment(impl, adjustment, logits.n_rows, logits.n_vocab));
  const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(logits.n_vocab, impl.params.vocab_size));
  for (size_t r = 0; r < rows.size(); ++r) {
    out_tokens[r] = -1;
    SeqState* seq = rows[r];
    if (seq == nullptr) continue;
    if (seq->hook_ != impl_.get()) return invalid_argument("a sequence state belongs to another hook");
    const double u = uniforms != nullptr ? uniforms[r] : seq->next_uniform();
    if (!(u >= 0 && u < 1)) return invalid_argument("uniforms must be in [0, 1)");
    float* row = logits.data + static_cast<int64_t>(r) * logits.row_stride;
    if (adjustment.active()) {
      detail::StepKeys keys;
      const bool marked = impl.prepare_step(*seq, keys);
      detail::adjust_row(impl, *seq, marked ? &keys : nullptr, adjustment, static_cast<int64_t>(r), row,
                         logits.n_vocab);
    }
    // For KGW the dense list is the row itself (biased in place); for Gumbel and the tournament nothing is written.
    const ptrdiff_t pick = impl.choose_one(*seq, detail::DenseList{row, n}, u);
    out_tokens[r] = static_cast<int32_t>(pick);
    if (mask_others && pick >= 0) {
      const float keep = row[pick];
      for (int64_t v = 0; v < logits.n_vocab; ++v) row[v] = -std::numeric_limits<float>::infinity();
      row[pick] = std::isfinite(keep) ? keep : 0.0f;
    }
  }
  return Status::ok();
}

Status Hook::choose_candidates(SeqState& seq, const CandidatesView& cand, float uniform, size_t* out_index,
                               const Adjustment& adjustment) const noexcept {
  if (out_index == nullptr) return invalid_argument("out_index is null");
  if (seq.hook_ != impl_.get()) return invalid_argument("the sequence state belongs to another hook");
  if (cand.n > 0 && (cand.ids == nullptr || cand.logits == nullptr)) return invalid_argument("candidates are null");
  const double u = uniform >= 0 ? uniform : seq.next_uniform();
  if (!(u < 1)) return invalid_argument("uniform must be in [0, 1)");
  if (impl_->ops->whole_distribution && cand.n > impl_->params.vocab_size) {
    return invalid_argument("more candidates than the vocabulary size");
  }
  TT_RETURN_IF_ERROR(detail::check_adjustment(*impl_, adjustment, 1, -1));
  if (adjustment.active()) {
    detail::StepKeys keys;
    const bool marked = impl_->prepare_step(seq, keys);
    detail::adjust_list(*impl_, seq, marked ? &keys : nullptr, adjustment, detail::CandidateList{cand});
  }
  const ptrdiff_t pick = impl_->choose_one(seq, detail::CandidateList{cand}, u);
  if (pick < 0) return invalid_argument("no candidate has a finite logit within the vocabulary");
  *out_index = static_cast<size_t>(pick);
  return Status::ok();
}

}  // namespace telltale
