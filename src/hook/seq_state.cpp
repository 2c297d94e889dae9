// One generating sequence's state: its context window, the repeated-context memory, and the fallback draws.
#include <algorithm>
#include <cstring>
#include <new>

#include "hook/hook_impl.hpp"

namespace telltale {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

SeqState::SeqState(SeqState&&) noexcept = default;
SeqState& SeqState::operator=(SeqState&&) noexcept = default;
SeqState::~SeqState() = default;

std::span<const int32_t> SeqState::window() const {
  const size_t n = accepted_ < width_ ? static_cast<size_t>(accepted_) : width_;
  return {window_.data() + (width_ - n), n};
}

void SeqState::accept(int32_t token) {
  if (armed_ == detail::kArmedWatermarked) {
    ++watermarked_;
    if (!history_.empty()) {
      history_[history_next_] = armed_context_;
      history_next_ = (history_next_ + 1) % history_.size();
      if (history_size_ < history_.size()) ++history_size_;
    }
  } else if (armed_ == detail::kArmedRepeated) {
    ++skipped_repeated_;
  }
  armed_ = detail::kNotArmed;
  if (width_ > 0) {
    std::memmove(window_.data(), window_.data() + 1, sizeof(int32_t) * (width_ - 1));
    window_[width_ - 1] = token;
  }
  ++accepted_;
}

void SeqState::reset() {
  window_.fill(0);
  accepted_ = 0;
  armed_ = detail::kNotArmed;
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
  s.watermarked_ = watermarked_;
  s.skipped_repeated_ = skipped_repeated_;
  s.hook_ = hook_;
  TT_RETURN_IF_ERROR(hook_->open_keystreams(s.keystream_, s.account_keystream_));
  try {
    s.history_ = history_;
    s.history_size_ = history_size_;
    s.history_next_ = history_next_;
    s.scratch_ = std::make_unique<Scratch>();
    s.scratch_->tournament.reserve(scratch_->tournament.index.size());
  } catch (const std::bad_alloc&) {
    return Status{StatusCode::kNoMemory, "cannot allocate sequence scratch"};
  }
  return s;
}

}  // namespace telltale
