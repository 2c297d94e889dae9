// The hook: per-row dispatch to the scheme, the context window and repeated-context rule, and the detector.
#include "telltale/hook.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <type_traits>

#include "schemes/fingerprint.hpp"
#include "schemes/gumbel.hpp"
#include "schemes/kgw.hpp"
#include "schemes/sampling.hpp"
#include "schemes/tournament.hpp"

namespace telltale {

struct SeqState::Scratch {
  detail::Workspace ws;
  tournament::Buffers tournament;
};

namespace detail {
struct HookImpl {
  SchemeParams params;
  SecretBytes subkeys;  // seeder key (16) || keystream key (16), in libsodium secure memory
  Seeder seeder;
  unsigned bits = 2;
  kgw::Config kgw;
  // Fingerprint: the zero-bit layer is KGW with KGW's subkeys above; the account layer has its own subkeys.
  SecretBytes account_subkeys;  // seeder key (16) || keystream key (16)
  Seeder account_seeder;
  fingerprint::Config fingerprint;

  std::span<const uint8_t, kKeystreamKeyBytes> keystream_key() const {
    return std::span<const uint8_t, kKeystreamKeyBytes>(subkeys.data() + kSeederKeyBytes, kKeystreamKeyBytes);
  }
  std::span<const uint8_t, kKeystreamKeyBytes> account_keystream_key() const {
    return std::span<const uint8_t, kKeystreamKeyBytes>(account_subkeys.data() + kSeederKeyBytes, kKeystreamKeyBytes);
  }
  uint32_t window_size() const { return params.self_hash ? params.context_width - 1 : params.context_width; }
  bool has_account_layer() const { return params.scheme == SchemeKind::kFingerprint; }
  // Derives the account layer's subkeys (fingerprint scheme only).
  Status derive_account_keys(const KeyRing& keys);
  // Copies another impl's parameters and subkeys (for Detector::clone).
  Status copy_from(const HookImpl& src);

  // The account layer's bias of one watermarked step: `keys` are the step's zero-bit keys (window set).
  template <typename List>
  void bias_account(SeqState& seq, const StepKeys& keys, List list, uint32_t vocab) const {
    StepKeys account = keys;
    account.seeder = &account_seeder;
    account.seed = account_seeder.left_hash(keys.window);
    account.keystream = &seq.account_keystream_;
    account.bits = fingerprint::kBits;
    const unsigned favoured =
        fingerprint_codeword_bit(static_cast<uint32_t>(seq.account_), fingerprint::position(account.seed));
    fingerprint::bias_list(fingerprint, account, list, vocab, favoured);
  }

  // Decides whether this step of `seq` is watermarked (full context, not a repeated one), prepares its keys and
  // arms the state for accept().
  bool prepare_step(SeqState& seq, StepKeys& keys) const;
  // Picks the entry for one row or candidate list: the shared body of choose and choose_candidates.
  template <typename List>
  ptrdiff_t choose_one(SeqState& seq, const List& list, double uniform) const;
};
}  // namespace detail

namespace {

enum Armed : uint8_t { kNotArmed = 0, kArmedWatermarked = 1, kArmedRepeated = 2, kArmedNoContext = 3 };

// A list view over a CandidatesView. A copy of the view, not a pointer to it: its pointers and strides then stay in
// registers in the hot loops instead of being reloaded after every store.
struct CandidateList {
  CandidatesView c;
  size_t size() const { return c.n; }
  uint32_t id(size_t i) const { return static_cast<uint32_t>(c.id(i)); }
  float& logit(size_t i) const { return c.logit(i); }
};

// A list over the chosen ids of a dense row (the survivors of top-k pruning).
struct SubsetList {
  float* row;
  const uint32_t* ids;
  size_t n;
  size_t size() const { return n; }
  uint32_t id(size_t i) const { return ids[i]; }
  float& logit(size_t i) const { return row[ids[i]]; }
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The scans of a dense row below look for a few hundred entries among ~10^5. They test kScanGroup entries at a time
// with a count the compiler vectorises (no branch per entry) and look closer only at a group that has one.
constexpr size_t kScanGroup = 16;

template <typename Pred>
bool any_in_group(const float* p, Pred pred) {
  int count = 0;
  for (size_t j = 0; j < kScanGroup; ++j) count += pred(p[j]);
  return count != 0;
}

// The k-th largest of values[0..n) (k <= n, k <= heap capacity), with a min-heap in caller-provided storage. A group
// with no value above the heap's minimum is skipped: each of its values would have been tested and left out anyway.
float kth_largest(const float* values, size_t n, size_t k, float* heap) {
  for (size_t i = 0; i < k; ++i) heap[i] = values[i];
  std::make_heap(heap, heap + k, std::greater<float>());
  const auto offer = [heap, k](float v) {
    if (v > heap[0]) {
      std::pop_heap(heap, heap + k, std::greater<float>());
      heap[k - 1] = v;
      std::push_heap(heap, heap + k, std::greater<float>());
    }
  };
  size_t i = k;
  for (; i + kScanGroup <= n; i += kScanGroup) {
    const float min = heap[0];
    if (!any_in_group(values + i, [min](float v) { return v > min; })) continue;
    for (size_t j = i; j < i + kScanGroup; ++j) offer(values[j]);
  }
  for (; i < n; ++i) offer(values[i]);
  return heap[0];
}

Status check_view(const LogitsView& v, size_t rows) {
  if (v.data == nullptr) return invalid_argument("logits data is null");
  if (v.n_vocab < 1 || v.row_stride < v.n_vocab || v.n_rows < 0) return invalid_argument("bad logits shape or stride");
  if (static_cast<size_t>(v.n_rows) != rows) return invalid_argument("one sequence state per logits row is required");
  return Status::ok();
}

}  // namespace

// ---- SeqState ----

SeqState::SeqState(SeqState&&) noexcept = default;
SeqState& SeqState::operator=(SeqState&&) noexcept = default;
SeqState::~SeqState() = default;

std::span<const int32_t> SeqState::window() const {
  const size_t n = accepted_ < width_ ? static_cast<size_t>(accepted_) : width_;
  return {window_.data() + (width_ - n), n};
}

void SeqState::accept(int32_t token) {
  if (armed_ == kArmedWatermarked) {
    ++watermarked_;
    if (!history_.empty()) {
      history_[history_next_] = armed_context_;
      history_next_ = (history_next_ + 1) % history_.size();
      if (history_size_ < history_.size()) ++history_size_;
    }
  } else if (armed_ == kArmedRepeated) {
    ++skipped_repeated_;
  }
  armed_ = kNotArmed;
  if (width_ > 0) {
    std::memmove(window_.data(), window_.data() + 1, sizeof(int32_t) * (width_ - 1));
    window_[width_ - 1] = token;
  }
  ++accepted_;
}

void SeqState::reset() {
  window_.fill(0);
  accepted_ = 0;
  armed_ = kNotArmed;
  history_size_ = 0;
  history_next_ = 0;
  std::fill(history_.begin(), history_.end(), 0);
  watermarked_ = 0;
  skipped_repeated_ = 0;
}

bool SeqState::seen(uint64_t context) const {
  for (size_t i = 0; i < history_size_; ++i) {
    if (history_[i] == context) return true;
  }
  return false;
}

float SeqState::next_uniform() {
  // A pure function of (seed, position): calling bias/choose twice on one step gives the same draw.
  const uint64_t x = splitmix64(rng_seed_ ^ splitmix64(accepted_));
  return static_cast<float>(x >> 40) * 0x1p-24f;
}

Result<SeqState> SeqState::clone() const {
  SeqState s;
  s.width_ = width_;
  s.window_ = window_;
  s.accepted_ = accepted_;
  s.account_ = account_;
  s.rng_seed_ = rng_seed_;
  s.armed_ = armed_;
  s.armed_context_ = armed_context_;
  s.history_ = history_;
  s.history_size_ = history_size_;
  s.history_next_ = history_next_;
  s.watermarked_ = watermarked_;
  s.skipped_repeated_ = skipped_repeated_;
  s.hook_ = hook_;
  auto ks = Keystream::create(hook_->keystream_key());
  if (!ks) return ks.status();
  s.keystream_ = std::move(ks).value();
  if (hook_->has_account_layer()) {
    auto aks = Keystream::create(hook_->account_keystream_key());
    if (!aks) return aks.status();
    s.account_keystream_ = std::move(aks).value();
  }
  try {
    s.scratch_ = std::make_unique<Scratch>();
    s.scratch_->tournament.reserve(scratch_->tournament.index.size());
  } catch (const std::bad_alloc&) {
    return Status{StatusCode::kNoMemory, "cannot allocate sequence scratch"};
  }
  return s;
}

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
  fingerprint.delta = params.fingerprint.delta;
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
  auto impl = std::make_unique<detail::HookImpl>();
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
    case SchemeKind::kFingerprint:
      TT_RETURN_IF_ERROR(impl->derive_account_keys(keys));
      [[fallthrough]];
    case SchemeKind::kKgw:
      impl->kgw.layout = kgw_layout(params.kgw.gamma);
      impl->kgw.delta = params.kgw.delta;
      impl->bits = impl->kgw.layout.bits;
      break;
    case SchemeKind::kGumbel: impl->bits = gumbel::kBits; break;
    case SchemeKind::kTournament: impl->bits = tournament::kBits; break;
    default: return unsupported("scheme not available");
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
  auto ks = Keystream::create(impl_->keystream_key());
  if (!ks) return ks.status();
  s.keystream_ = std::move(ks).value();
  if (impl_->has_account_layer()) {
    auto aks = Keystream::create(impl_->account_keystream_key());
    if (!aks) return aks.status();
    s.account_keystream_ = std::move(aks).value();
  }
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
  seq.armed_ = kArmedNoContext;
  seq.armed_context_ = 0;
  const uint32_t need = window_size();
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
    seq.armed_ = kArmedRepeated;
    return false;
  }
  seq.armed_ = kArmedWatermarked;
  return true;
}

Status Hook::bias(std::span<SeqState* const> rows, const LogitsView& logits, const BiasOptions& options) const noexcept {
  const detail::HookImpl& impl = *impl_;
  if (impl.params.scheme == SchemeKind::kGumbel) {
    return unsupported("the gumbel scheme makes the draw itself: use choose (with mask_others for logit-only hosts)");
  }
  TT_RETURN_IF_ERROR(check_view(logits, rows.size()));
  const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(logits.n_vocab, impl.params.vocab_size));
  for (size_t r = 0; r < rows.size(); ++r) {
    SeqState* seq = rows[r];
    if (seq == nullptr) continue;
    if (seq->hook_ != impl_.get()) return invalid_argument("a sequence state belongs to another hook");
    float* row = logits.data + static_cast<int64_t>(r) * logits.row_stride;
    detail::StepKeys keys;
    if (!impl.prepare_step(*seq, keys)) continue;
    detail::Workspace& ws = seq->scratch_->ws;
    if (impl.has_account_layer()) {
      // Both layers over the full row (no top-k pruning: the two deltas add on some ids).
      kgw::bias_row(impl.kgw, keys, ws, row, n);
      impl.bias_account(*seq, keys, detail::DenseList{row, n}, n);
      continue;
    }
    if (impl.params.scheme == SchemeKind::kKgw) {
      const uint32_t k = options.top_k;
      if (k == 0 || k >= n || k > detail::Workspace::kMaxTopK) {
        kgw::bias_row(impl.kgw, keys, ws, row, n);
        continue;
      }
      // Only ids with logit >= (k-th largest) - delta can be among the top k after the bias.
      const float floor = kth_largest(row, n, k, ws.heap.data()) - impl.kgw.delta;
      uint32_t* ids = ws.survivors.data();  // in batches of kBatch, its capacity
      size_t m = 0;
      const auto keep = [&](uint32_t i) {
        if (row[i] >= floor) {
          ids[m++] = i;
          if (m == detail::Workspace::kBatch) {
            kgw::bias_list(impl.kgw, keys, SubsetList{row, ids, m}, n);
            m = 0;
          }
        }
      };
      uint32_t i = 0;
      for (; i + kScanGroup <= n; i += kScanGroup) {
        if (!any_in_group(row + i, [floor](float v) { return v >= floor; })) continue;
        for (uint32_t j = i; j < i + kScanGroup; ++j) keep(j);
      }
      for (; i < n; ++i) keep(i);
      if (m > 0) kgw::bias_list(impl.kgw, keys, SubsetList{row, ids, m}, n);
    } else {  // tournament
      auto& buf = seq->scratch_->tournament;
      const size_t count = tournament::distribution_row(keys, buf, row, n, impl.params.tournament.layers);
      tournament::write_log_probs(buf, count, detail::DenseList{row, n});
      // The row now holds a log-distribution over the vocabulary: ids past vocab_size (padding) must not compete.
      std::fill(row + n, row + logits.n_vocab, -std::numeric_limits<float>::infinity());
    }
  }
  return Status::ok();
}

Status Hook::bias_candidates(SeqState& seq, const CandidatesView& cand, const CandidateBound& bound) const noexcept {
  const detail::HookImpl& impl = *impl_;
  if (impl.params.scheme == SchemeKind::kGumbel) {
    return unsupported("the gumbel scheme makes the draw itself: use choose_candidates");
  }
  if (seq.hook_ != impl_.get()) return invalid_argument("the sequence state belongs to another hook");
  if (cand.n > 0 && (cand.ids == nullptr || cand.logits == nullptr)) return invalid_argument("candidates are null");
  detail::Workspace& ws = seq.scratch_->ws;
  const float delta = impl.params.scheme == SchemeKind::kKgw           ? impl.kgw.delta
                      : impl.params.scheme == SchemeKind::kFingerprint ? impl.kgw.delta + impl.fingerprint.delta
                                                                       : 0.0f;
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
    for (size_t i = 0; i < c.n && above < bound.top_k; i += kScanGroup) {
      const size_t end = c.n - i < kScanGroup ? c.n : i + kScanGroup;
      for (size_t j = i; j < end; ++j) above += c.logit(j) > limit;
    }
    if (above < bound.top_k) {
      return Status{StatusCode::kIncomplete, "an excluded id could enter the top k after the bias"};
    }
  }
  detail::StepKeys keys;
  if (!impl.prepare_step(seq, keys)) return Status::ok();
  const CandidateList list{cand};
  if (impl.params.scheme == SchemeKind::kKgw || impl.has_account_layer()) {
    kgw::bias_list(impl.kgw, keys, list, impl.params.vocab_size);
    if (impl.has_account_layer()) impl.bias_account(seq, keys, list, impl.params.vocab_size);
  } else {
    auto& buf = seq.scratch_->tournament;
    if (cand.n > buf.index.size()) return invalid_argument("more candidates than the vocabulary size");
    const size_t count =
        tournament::distribution(keys, ws, buf, list, impl.params.vocab_size, impl.params.tournament.layers);
    tournament::write_log_probs(buf, count, list);
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
    default: return -1;
  }
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

// ---- Detector ----

Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;
Detector::~Detector() = default;

namespace {
// The detector's keystreams and scratch, once its hook is in place.
Status finish_detector(const detail::HookImpl& impl, Keystream& keystream, Keystream& account_keystream,
                       std::unique_ptr<detail::Workspace>& ws) {
  auto ks = Keystream::create(impl.keystream_key());
  if (!ks) return ks.status();
  keystream = std::move(ks).value();
  if (impl.has_account_layer()) {
    auto aks = Keystream::create(impl.account_keystream_key());
    if (!aks) return aks.status();
    account_keystream = std::move(aks).value();
  }
  ws = std::make_unique<detail::Workspace>();
  return Status::ok();
}
}  // namespace

Result<Detector> Detector::create(const KeyRing& keys, const SchemeParams& params) {
  auto hook = Hook::create(keys, params);
  if (!hook) return hook.status();
  Detector d;
  d.hook_ = std::make_unique<Hook>(std::move(hook).value());
  TT_RETURN_IF_ERROR(finish_detector(*d.hook_->impl_, d.keystream_, d.account_keystream_, d.ws_));
  return d;
}

Result<Detector> Detector::clone() const {
  Detector d;
  auto impl = std::make_unique<detail::HookImpl>();
  TT_RETURN_IF_ERROR(impl->copy_from(*hook_->impl_));
  d.hook_ = std::make_unique<Hook>(Hook(std::move(impl)));
  TT_RETURN_IF_ERROR(finish_detector(*d.hook_->impl_, d.keystream_, d.account_keystream_, d.ws_));
  return d;
}

const SchemeParams& Detector::params() const { return hook_->impl_->params; }

NullModel Detector::null_model() const {
  const detail::HookImpl& impl = *hook_->impl_;
  switch (impl.params.scheme) {
    case SchemeKind::kKgw:
    case SchemeKind::kFingerprint: return {NullKind::kBernoulli, impl.kgw.layout.effective_gamma(), 1};
    case SchemeKind::kGumbel: return {NullKind::kExponential, 1.0, 1};
    default:
      return {impl.params.tournament.score == TournamentScore::kWeightedMean ? NullKind::kWeightedBits
                                                                              : NullKind::kBinomial,
              0.5, impl.params.tournament.layers};
  }
}

uint32_t Detector::window_size() const { return hook_->impl_->window_size(); }

// Calls f(score), where score(value) is the scheme's detection score of a keystream value: the scheme is chosen once
// per call, so that a loop over many values inside f has no call and no switch per value.
template <typename F>
static void with_scorer(const detail::HookImpl& impl, F f) {
  const uint32_t layers = impl.params.tournament.layers;
  switch (impl.params.scheme) {
    case SchemeKind::kKgw:
    case SchemeKind::kFingerprint:  // its zero-bit layer
      return f([&config = impl.kgw](uint32_t value) { return kgw::is_green(config, value) ? 1.0 : 0.0; });
    case SchemeKind::kGumbel: return f([](uint32_t value) { return gumbel::score(value); });
    default:
      if (impl.params.tournament.score == TournamentScore::kWeightedMean) {
        return f([layers](uint32_t value) { return tournament::weighted_score(value, layers); });
      }
      return f([layers](uint32_t value) { return tournament::score(value, layers); });
  }
}

static double score_value(const detail::HookImpl& impl, uint32_t value) {
  double s = 0;
  with_scorer(impl, [&](auto score) { s = score(value); });
  return s;
}

uint32_t Detector::g_values(std::span<const int32_t> window, int32_t token) {
  const detail::HookImpl& impl = *hook_->impl_;
  if (impl.params.scheme != SchemeKind::kTournament || token < 0 ||
      static_cast<uint32_t>(token) >= impl.params.vocab_size) {
    return 0;
  }
  const StepSeed seed = impl.params.self_hash ? impl.seeder.self_hash(window, token) : impl.seeder.left_hash(window);
  return keystream_.value(seed, static_cast<uint32_t>(token), impl.bits) &
         tournament::layer_mask(impl.params.tournament.layers);
}

double Detector::score(std::span<const int32_t> window, int32_t token) {
  const detail::HookImpl& impl = *hook_->impl_;
  if (token < 0 || static_cast<uint32_t>(token) >= impl.params.vocab_size) return 0.0;
  const StepSeed seed = impl.params.self_hash ? impl.seeder.self_hash(window, token) : impl.seeder.left_hash(window);
  return score_value(impl, keystream_.value(seed, static_cast<uint32_t>(token), impl.bits));
}

Status Detector::score_sequence(std::span<const int32_t> tokens, size_t first, std::span<double> out) {
  const detail::HookImpl& impl = *hook_->impl_;
  const size_t w = impl.window_size();
  detail::Workspace& ws = *ws_;
  const size_t n = tokens.size();
  if (first < w) return invalid_argument("score_sequence: first is smaller than the window size");
  if (first < n && out.size() < n - first) return invalid_argument("score_sequence: the output is too short");
  for (size_t start = first; start < n; start += detail::Workspace::kBatch) {
    const size_t m = std::min(n - start, detail::Workspace::kBatch);
    impl.seeder.seed_positions(tokens, start, impl.params.context_width, impl.params.self_hash, {ws.seeds.data(), m});
    for (size_t j = 0; j < m; ++j) {
      const int32_t token = tokens[start + j];
      // Out-of-vocabulary tokens are keyed as id 0 and scored 0 below.
      ws.ids[j] = (token >= 0 && static_cast<uint32_t>(token) < impl.params.vocab_size) ? static_cast<uint32_t>(token)
                                                                                         : 0u;
    }
    keystream_.gather({ws.seeds.data(), m}, {ws.ids.data(), m}, impl.bits, ws.values.data(), ws.blocks.data());
    with_scorer(impl, [&](auto score) {
      for (size_t j = 0; j < m; ++j) {
        const int32_t token = tokens[start + j];
        const bool in_vocab = token >= 0 && static_cast<uint32_t>(token) < impl.params.vocab_size;
        out[start + j - first] = in_vocab ? score(ws.values[j]) : 0.0;
      }
    });
  }
  return Status::ok();
}

Status Detector::account_marks(std::span<const int32_t> tokens, size_t first, std::span<uint32_t> out) {
  const detail::HookImpl& impl = *hook_->impl_;
  if (!impl.has_account_layer()) return unsupported("only the fingerprint scheme has an account layer");
  const size_t w = impl.window_size();
  const size_t n = tokens.size();
  if (first < w || first > n || out.size() < n - first) return invalid_argument("account_marks: bad range");
  detail::Workspace& ws = *ws_;
  for (size_t start = first; start < n; start += detail::Workspace::kBatch) {
    const size_t m = std::min(n - start, detail::Workspace::kBatch);
    impl.account_seeder.seed_positions(tokens, start, static_cast<uint32_t>(w), false, {ws.seeds.data(), m});
    for (size_t j = 0; j < m; ++j) {
      const int32_t token = tokens[start + j];
      ws.ids[j] = (token >= 0 && static_cast<uint32_t>(token) < impl.params.vocab_size) ? static_cast<uint32_t>(token)
                                                                                         : 0u;
    }
    account_keystream_.gather({ws.seeds.data(), m}, {ws.ids.data(), m}, fingerprint::kBits, ws.values.data(),
                              ws.blocks.data());
    for (size_t j = 0; j < m; ++j) {
      const int32_t token = tokens[start + j];
      const bool in_vocab = token >= 0 && static_cast<uint32_t>(token) < impl.params.vocab_size;
      out[start + j - first] =
          in_vocab ? fingerprint::mark(fingerprint::position(ws.seeds[j]), ws.values[j]) : fingerprint::kNoMark;
    }
  }
  return Status::ok();
}

}  // namespace telltale
