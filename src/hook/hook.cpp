// The hook: the sampler side of every scheme. The scheme is picked once per call; each row or candidate list then
// runs that scheme's functions (schemes/*.hpp) directly.
#include "telltale/hook.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <type_traits>

#include "hook/hook_impl.hpp"
#include "schemes/gumbel.hpp"
#include "schemes/sampling.hpp"

namespace telltale {

namespace {

// A list view over a CandidatesView. A copy of the view, not a pointer to it: its pointers and strides then stay in
// registers in the hot loops instead of being reloaded after every store.
struct CandidateList {
  CandidatesView c;
  size_t size() const { return c.n; }
  uint32_t id(size_t i) const { return static_cast<uint32_t>(c.id(i)); }
  float& logit(size_t i) const { return c.logit(i); }
};

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
  auto sub = SecretBytes::allocate(kSeederKeyBytes + kKeystreamKeyBytes);
  if (!sub) return sub.status();
  impl->subkeys = std::move(sub).value();
  // The fingerprint scheme's zero-bit layer is KGW itself, under KGW's subkeys: the plain KGW detector finds it.
  const SchemeKind layer = params.scheme == SchemeKind::kFingerprint ? SchemeKind::kKgw : params.scheme;
  TT_RETURN_IF_ERROR(keys.derive(layer, KeyPurpose::kSeeder, 0, {impl->subkeys.data(), kSeederKeyBytes}));
  TT_RETURN_IF_ERROR(
      keys.derive(layer, KeyPurpose::kKeystream, 0, {impl->subkeys.data() + kSeederKeyBytes, kKeystreamKeyBytes}));
  impl->seeder = Seeder(std::span<const uint8_t, kSeederKeyBytes>(impl->subkeys.data(), kSeederKeyBytes));
  switch (params.scheme) {
    case SchemeKind::kFingerprint: TT_RETURN_IF_ERROR(impl->derive_account_keys(keys)); [[fallthrough]];
    case SchemeKind::kKgw:
      impl->kgw.layout = kgw_layout(params.kgw.gamma);
      impl->kgw.delta = params.kgw.delta;
      impl->bits = impl->kgw.layout.bits;
      break;
    case SchemeKind::kGumbel: impl->bits = gumbel::kBits; break;
    case SchemeKind::kTournament: impl->bits = tournament::kBits; break;
  }
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
    if (impl_->params.scheme == SchemeKind::kTournament) s.scratch_->tournament.reserve(impl_->params.vocab_size);
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

Status Hook::bias(std::span<SeqState* const> rows, const LogitsView& logits,
                  const BiasOptions& options) const noexcept {
  const detail::HookImpl& impl = *impl_;
  const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(logits.n_vocab, impl.params.vocab_size));
  // Runs body(seq, keys, row) on every row whose step is watermarked.
  const auto over_rows = [&](auto body) -> Status {
    TT_RETURN_IF_ERROR(check_view(logits, rows.size()));
    for (size_t r = 0; r < rows.size(); ++r) {
      SeqState* seq = rows[r];
      if (seq == nullptr) continue;
      if (seq->hook_ != impl_.get()) return invalid_argument("a sequence state belongs to another hook");
      detail::StepKeys keys;
      if (!impl.prepare_step(*seq, keys)) continue;
      body(*seq, keys, logits.data + static_cast<int64_t>(r) * logits.row_stride);
    }
    return Status::ok();
  };
  switch (impl.params.scheme) {
    case SchemeKind::kGumbel:
      return unsupported("the gumbel scheme makes the draw itself: use choose (with mask_others for logit-only hosts)");
    case SchemeKind::kKgw: {
      const uint32_t k = options.top_k;
      if (k == 0 || k >= n || k > detail::Workspace::kMaxTopK) {
        return over_rows([&](SeqState& seq, const detail::StepKeys& keys, float* row) {
          kgw::bias_row(impl.kgw, keys, seq.scratch_->ws, row, n);
        });
      }
      return over_rows([&](SeqState& seq, const detail::StepKeys& keys, float* row) {
        kgw::bias_row_top_k(impl.kgw, keys, seq.scratch_->ws, row, n, k);
      });
    }
    case SchemeKind::kFingerprint:
      // Both layers over the full row (no top-k pruning: the two deltas add on some ids).
      return over_rows([&](SeqState& seq, const detail::StepKeys& keys, float* row) {
        kgw::bias_row(impl.kgw, keys, seq.scratch_->ws, row, n);
        impl.bias_account(seq, keys, detail::DenseList{row, n}, n);
      });
    case SchemeKind::kTournament:
      return over_rows([&](SeqState& seq, const detail::StepKeys& keys, float* row) {
        auto& buf = seq.scratch_->tournament;
        const size_t count = tournament::distribution_row(keys, buf, row, n, impl.params.tournament.layers);
        tournament::write_log_probs(buf, count, detail::DenseList{row, n});
        // The row now holds a log-distribution over the vocabulary: ids past vocab_size (padding) must not compete.
        std::fill(row + n, row + logits.n_vocab, -std::numeric_limits<float>::infinity());
      });
  }
  return unsupported("unknown scheme");
}

Status Hook::bias_candidates(SeqState& seq, const CandidatesView& cand, const CandidateBound& bound) const noexcept {
  const detail::HookImpl& impl = *impl_;
  float delta = 0;  // the most the bias adds to a logit
  switch (impl.params.scheme) {
    case SchemeKind::kGumbel: return unsupported("the gumbel scheme makes the draw itself: use choose_candidates");
    case SchemeKind::kKgw: delta = impl.kgw.delta; break;
    case SchemeKind::kFingerprint: delta = impl.kgw.delta + impl.fingerprint.delta; break;
    case SchemeKind::kTournament: break;
  }
  if (seq.hook_ != impl_.get()) return invalid_argument("the sequence state belongs to another hook");
  if (cand.n > 0 && (cand.ids == nullptr || cand.logits == nullptr)) return invalid_argument("candidates are null");
  detail::Workspace& ws = seq.scratch_->ws;
  if (impl.params.scheme == SchemeKind::kTournament && bound.excluded_max > -std::numeric_limits<float>::infinity()) {
    // The tournament renormalises over every id: it needs them all.
    return Status{StatusCode::kIncomplete, "the tournament needs every id with a finite logit among the candidates"};
  }
  if (bound.top_k > 0 && bound.excluded_max > -std::numeric_limits<float>::infinity()) {
    if (bound.top_k > cand.n || bound.top_k > detail::Workspace::kMaxTopK) {
      return Status{StatusCode::kIncomplete, "fewer candidates than top_k"};
    }
    // No excluded id can enter the top k iff the k-th largest candidate logit is above excluded_max + delta, i.e. iff
    // at least k candidates are. Counting needs no heap and no branch per candidate, and stops once k are found (the
    // first k when the list is sorted, as llama.cpp's is). A NaN logit counts as not above: kIncomplete, the safe side.
    const float limit = bound.excluded_max + delta;
    const CandidatesView c = cand;  // a local copy: its pointer and stride stay in registers
    size_t above = 0;
    for (size_t i = 0; i < c.n && above < bound.top_k; i += detail::kScanGroup) {
      const size_t end = c.n - i < detail::kScanGroup ? c.n : i + detail::kScanGroup;
      for (size_t j = i; j < end; ++j) above += c.logit(j) > limit;
    }
    if (above < bound.top_k) {
      return Status{StatusCode::kIncomplete, "an excluded id could enter the top k after the bias"};
    }
  }
  detail::StepKeys keys;
  if (!impl.prepare_step(seq, keys)) return Status::ok();
  const CandidateList list{cand};
  const uint32_t vocab = impl.params.vocab_size;
  switch (impl.params.scheme) {
    case SchemeKind::kGumbel: break;  // refused above
    case SchemeKind::kKgw: kgw::bias_list(impl.kgw, keys, list, vocab); break;
    case SchemeKind::kFingerprint:
      kgw::bias_list(impl.kgw, keys, list, vocab);
      impl.bias_account(seq, keys, list, vocab);
      break;
    case SchemeKind::kTournament: {
      auto& buf = seq.scratch_->tournament;
      if (cand.n > buf.index.size()) return invalid_argument("more candidates than the vocabulary size");
      const size_t count = tournament::distribution(keys, ws, buf, list, vocab, impl.params.tournament.layers);
      tournament::write_log_probs(buf, count, list);
      break;
    }
  }
  return Status::ok();
}

template <typename List>
ptrdiff_t detail::HookImpl::choose_one(SeqState& seq, const List& list, double uniform) const {
  const detail::HookImpl& impl = *this;
  // A dense row (ids 0..n-1, n <= vocab_size) takes the vectorised row paths, which give the same answers.
  constexpr bool kDense = std::is_same_v<List, DenseList>;
  StepKeys keys;
  const uint32_t vocab = impl.params.vocab_size;
  if (!prepare_step(seq, keys)) return detail::sample_list(list, vocab, uniform);
  switch (impl.params.scheme) {
    case SchemeKind::kKgw:
      kgw::bias_list(impl.kgw, keys, list, vocab);
      return detail::sample_list(list, vocab, uniform);
    case SchemeKind::kFingerprint:
      kgw::bias_list(impl.kgw, keys, list, vocab);
      bias_account(seq, keys, list, vocab);
      return detail::sample_list(list, vocab, uniform);
    case SchemeKind::kGumbel:
      if constexpr (kDense) return gumbel::choose_row(keys, seq.scratch_->ws, list.row, static_cast<uint32_t>(list.n));
      return gumbel::choose(keys, seq.scratch_->ws, list, vocab);
    case SchemeKind::kTournament: {
      auto& buf = seq.scratch_->tournament;
      const uint32_t layers = impl.params.tournament.layers;
      size_t count = 0;
      if constexpr (kDense) {
        count = tournament::distribution_row(keys, buf, list.row, static_cast<uint32_t>(list.n), layers);
      } else {
        count = tournament::distribution(keys, seq.scratch_->ws, buf, list, vocab, layers);
      }
      return tournament::sample(buf, count, uniform);
    }
  }
  return -1;
}

Status Hook::choose(std::span<SeqState* const> rows, const LogitsView& logits, const float* uniforms,
                    int32_t* out_tokens, bool mask_others) const noexcept {
  TT_RETURN_IF_ERROR(check_view(logits, rows.size()));
  if (out_tokens == nullptr) return invalid_argument("out_tokens is null");
  const detail::HookImpl& impl = *impl_;
  const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(logits.n_vocab, impl.params.vocab_size));
  for (size_t r = 0; r < rows.size(); ++r) {
    out_tokens[r] = -1;
    SeqState* seq = rows[r];
    if (seq == nullptr) continue;
    if (seq->hook_ != impl_.get()) return invalid_argument("a sequence state belongs to another hook");
    const double u = uniforms != nullptr ? uniforms[r] : seq->next_uniform();
    if (!(u >= 0 && u < 1)) return invalid_argument("uniforms must be in [0, 1)");
    float* row = logits.data + static_cast<int64_t>(r) * logits.row_stride;
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

Status Hook::choose_candidates(SeqState& seq, const CandidatesView& cand, float uniform,
                               size_t* out_index) const noexcept {
  if (out_index == nullptr) return invalid_argument("out_index is null");
  if (seq.hook_ != impl_.get()) return invalid_argument("the sequence state belongs to another hook");
  if (cand.n > 0 && (cand.ids == nullptr || cand.logits == nullptr)) return invalid_argument("candidates are null");
  const double u = uniform >= 0 ? uniform : seq.next_uniform();
  if (!(u < 1)) return invalid_argument("uniform must be in [0, 1)");
  if (impl_->params.scheme == SchemeKind::kTournament && cand.n > seq.scratch_->tournament.index.size()) {
    return invalid_argument("more candidates than the vocabulary size");
  }
  const ptrdiff_t pick = impl_->choose_one(seq, CandidateList{cand}, u);
  if (pick < 0) return invalid_argument("no candidate has a finite logit within the vocabulary");
  *out_index = static_cast<size_t>(pick);
  return Status::ok();
}

}  // namespace telltale
