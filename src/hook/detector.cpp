// The detector: scores tokens with the keyed values the hook used, through the scheme's score function (one call per
// batch of values).
#include <algorithm>
#include <new>

#include "hook/hook_impl.hpp"

namespace telltale {

Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;
Detector::~Detector() = default;

namespace {
// The detector's keystreams and scratch, once its hook is in place.
Status finish_detector(const detail::HookImpl& impl, Keystream& keystream, Keystream& account_keystream,
                       std::unique_ptr<detail::Workspace>& ws) {
  TT_RETURN_IF_ERROR(impl.open_keystreams(keystream, account_keystream));
  try {
    ws = std::make_unique<detail::Workspace>();
  } catch (const std::bad_alloc&) {
    return Status{StatusCode::kNoMemory, "cannot allocate the detector's scratch"};
  }
  return Status::ok();
}
}  // namespace

Result<Detector> Detector::create(const KeyRing& keys, const SchemeParams& params) {
  auto hook = Hook::create(keys, params);
  if (!hook) return hook.status();
  Detector d;
  try {
    d.hook_ = std::make_unique<Hook>(std::move(hook).value());
  } catch (const std::bad_alloc&) {
    return Status{StatusCode::kNoMemory, "cannot allocate the detector"};
  }
  TT_RETURN_IF_ERROR(finish_detector(*d.hook_->impl_, d.keystream_, d.account_keystream_, d.ws_));
  return d;
}

Result<Detector> Detector::clone() const {
  Detector d;
  try {
    auto impl = std::make_unique<detail::HookImpl>();
    TT_RETURN_IF_ERROR(impl->copy_from(*hook_->impl_));
    d.hook_ = std::make_unique<Hook>(Hook(std::move(impl)));
  } catch (const std::bad_alloc&) {
    return Status{StatusCode::kNoMemory, "cannot allocate the detector"};
  }
  TT_RETURN_IF_ERROR(finish_detector(*d.hook_->impl_, d.keystream_, d.account_keystream_, d.ws_));
  return d;
}

const SchemeParams& Detector::params() const { return hook_->impl_->params; }

NullModel Detector::null_model() const { return telltale::null_model(hook_->impl_->params); }

uint32_t Detector::window_size() const { return telltale::window_size(hook_->impl_->params); }

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
  const uint32_t value = keystream_.value(seed, static_cast<uint32_t>(token), impl.bits);
  double s = 0;
  impl.ops->score(impl, &value, &token, 1, &s);
  return s;
}

Status Detector::score_sequence(std::span<const int32_t> tokens, size_t first, std::span<double> out) {
  const detail::HookImpl& impl = *hook_->impl_;
  const size_t w = telltale::window_size(impl.params);
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
      ws.ids[j] =
          (token >= 0 && static_cast<uint32_t>(token) < impl.params.vocab_size) ? static_cast<uint32_t>(token) : 0u;
    }
    keystream_.gather({ws.seeds.data(), m}, {ws.ids.data(), m}, impl.bits, ws.values.data(), ws.blocks.data());
    // One call per batch: the scheme's loop over the values (0 for the ids outside the vocabulary).
    impl.ops->score(impl, ws.values.data(), tokens.data() + start, m, out.data() + (start - first));
  }
  return Status::ok();
}

Status Detector::account_marks(std::span<const int32_t> tokens, size_t first, std::span<uint32_t> out) {
  const detail::HookImpl& impl = *hook_->impl_;
  if (!impl.has_account_layer()) return unsupported("only the fingerprint scheme has an account layer");
  const size_t w = telltale::window_size(impl.params);
  const size_t n = tokens.size();
  if (first < w || first > n || out.size() < n - first) return invalid_argument("account_marks: bad range");
  detail::Workspace& ws = *ws_;
  for (size_t start = first; start < n; start += detail::Workspace::kBatch) {
    const size_t m = std::min(n - start, detail::Workspace::kBatch);
    impl.account_seeder.seed_positions(tokens, start, static_cast<uint32_t>(w), false, {ws.seeds.data(), m});
    for (size_t j = 0; j < m; ++j) {
      const int32_t token = tokens[start + j];
      ws.ids[j] =
          (token >= 0 && static_cast<uint32_t>(token) < impl.params.vocab_size) ? static_cast<uint32_t>(token) : 0u;
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
