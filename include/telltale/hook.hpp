// The sampler hook (generation side) and the per-token detector (detection side) of every scheme.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "telltale/keyring.hpp"
#include "telltale/prf.hpp"
#include "telltale/scheme.hpp"
#include "telltale/scheme_table.hpp"
#include "telltale/status.hpp"

namespace telltale {

// Dense float32 logits: element (r, v) is data[r * row_stride + v]. Only v < n_vocab is read; row_stride >= n_vocab
// allows padded rows. Logits are natural-log unnormalised scores; -inf marks an excluded id.
struct LogitsView {
  float* data = nullptr;
  int64_t n_rows = 0;
  int64_t n_vocab = 0;
  int64_t row_stride = 0;
};

// Sparse candidates with byte strides, so llama.cpp's llama_token_data array is read in place:
// ids = &cur->data[0].id, logits = &cur->data[0].logit, both strides sizeof(llama_token_data).
struct CandidatesView {
  int32_t* ids = nullptr;
  float* logits = nullptr;
  size_t n = 0;
  size_t id_stride = sizeof(int32_t);
  size_t logit_stride = sizeof(float);
  int32_t& id(size_t i) const { return *reinterpret_cast<int32_t*>(reinterpret_cast<char*>(ids) + i * id_stride); }
  float& logit(size_t i) const { return *reinterpret_cast<float*>(reinterpret_cast<char*>(logits) + i * logit_stride); }
};

// What the server does after `bias`: it keeps only its top_k ids. With top_k > 0 the dense bias touches only the ids
// that can still be among the top k after the bias (logit >= k-th largest - delta); after the server's top-k the row is
// bit-identical to the full pass. top_k = 0: bias every id.
struct BiasOptions {
  uint32_t top_k = 0;
};

// For bias_candidates: the server's top-k after the bias, and an upper bound on the logit of every id NOT in the list
// (-inf when the list is the whole vocabulary). If an excluded id could enter the top k after the bias, the call
// returns kIncomplete and changes nothing, so that the server can fall back to the dense path. top_k = 0: no check.
struct CandidateBound {
  uint32_t top_k = 0;
  float excluded_max = -std::numeric_limits<float>::infinity();
};

// Antidistillation: a per-row adjustment added to the logits before the watermark's bias or draw, so that text
// stays useful to a user while a student trained on it is degraded or learns the watermark.
enum class AdjustmentKind : uint8_t {
  // Id v gets lambda * values[v]: antidistillation sampling (Savani et al. 2025, arXiv 2504.13146), values = the
  // proxy's finite difference [ln p(v; theta + eps g) - ln p(v; theta - eps g)] / (2 eps).
  kAdd = 0,
  // values = a proxy's next-token probabilities q (in [0, 1]); id v gets lambda * q_v * (1[v green] - L), L = the
  // proxy's mass on the step's green ids: antidistillation fingerprinting (Xu et al. 2026, arXiv 2602.03812). The
  // green set is the KGW zero-bit layer's (KGW and fingerprint schemes only); an unwatermarked step is left alone.
  kGreenAligned = 1,
};

// The adjustment of rows of logits: row r's values are values[r * row_stride + v], v < n_vocab, all finite. lambda is
// in logits per unit of value, finite; values == nullptr or lambda == 0 is no adjustment (bits unchanged). Dense
// calls need n_rows and n_vocab equal to the logits'; candidate calls read one row (n_rows = 1) indexed by id, where
// an id outside [0, n_vocab) gets nothing. The adjusted logit is written in place of the logit, as the bias is.
struct Adjustment {
  const float* values = nullptr;
  int64_t n_rows = 0;
  int64_t n_vocab = 0;
  int64_t row_stride = 0;
  float lambda = 0;
  AdjustmentKind kind = AdjustmentKind::kAdd;
  bool active() const { return values != nullptr && lambda != 0; }
};

class Hook;
namespace detail {
struct Workspace;
struct HookImpl;
}  // namespace detail

// One generating sequence: its context window, repeated-context memory, fallback RNG and scratch. Single writer.
// State changes only in accept() (and reset); bias/choose may be called any number of times per step.
class SeqState {
 public:
  SeqState(SeqState&&) noexcept;
  SeqState& operator=(SeqState&&) noexcept;
  ~SeqState();

  // The token the server actually emitted (or a prompt token being replayed). Prompt tokens count as context.
  void accept(int32_t token);
  void reset();
  Result<SeqState> clone() const;

  uint64_t account() const { return account_; }
  uint64_t accepted() const { return accepted_; }
  uint64_t watermarked_steps() const { return watermarked_; }      // accepted tokens whose step was watermarked
  uint64_t skipped_repeated() const { return skipped_repeated_; }  // steps left alone because the context repeated
  // The last min(h, accepted) tokens, oldest first.
  std::span<const int32_t> window() const;

 private:
  friend class Hook;
  friend struct detail::HookImpl;
  SeqState() = default;
  struct Scratch;

  uint32_t width_ = 0;
  std::array<int32_t, kMaxContextWidth> window_{};
  uint64_t accepted_ = 0;
  uint64_t account_ = 0;
  uint64_t rng_seed_ = 0;
  // Set by bias/choose for the step in progress; consumed by accept.
  uint8_t armed_ = 0;
  uint64_t armed_context_ = 0;
  // Repeated-context memory: a FIFO of context fingerprints.
  std::vector<uint64_t> history_;
  size_t history_size_ = 0;
  size_t history_next_ = 0;
  uint64_t watermarked_ = 0;
  uint64_t skipped_repeated_ = 0;
  const detail::HookImpl* hook_ = nullptr;  // the hook this state belongs to
  Keystream keystream_;
  Keystream account_keystream_;  // the fingerprint scheme's account layer (not created for other schemes)
  std::unique_ptr<Scratch> scratch_;
  bool seen(uint64_t context) const;
  float next_uniform();
};

// Everything a scheme needs at run time. Immutable after creation; share one across threads.
class Hook {
 public:
  static Result<Hook> create(const KeyRing& keys, const SchemeParams& params);
  Hook(Hook&&) noexcept;
  Hook& operator=(Hook&&) noexcept;
  ~Hook();

  // A new sequence. `account` is carried by account-aware schemes (fingerprint: the account id, 0 .. 2^32 - 1, which
  // its multi-bit layer embeds; a larger value is kInvalidArgument); `rng_seed` seeds the fallback sampler used when
  // choose() is given no uniforms and for unwatermarked (skipped) steps.
  Result<SeqState> new_sequence(uint64_t account = 0, uint64_t rng_seed = 0) const;

  // Edits rows in place: rows[r] is the state of logits row r (nullptr: leave the row untouched).
  // KGW adds delta to green ids; the tournament writes the log of its reweighted distribution; Gumbel has no bias
  // form (kUnsupported: use choose). Allocation-free; rows are independent, so disjoint row sets may run on threads.
  // `adjustment` (Adjustment above) is added first; a candidate list's top-k check widens its bound by the largest
  // adjustment any id can get, so that pruning stays exact.
  Status bias(std::span<SeqState* const> rows, const LogitsView& logits, const BiasOptions& options = {},
              const Adjustment& adjustment = {}) const noexcept;
  Status bias_candidates(SeqState& seq, const CandidatesView& cand, const CandidateBound& bound = {},
                         const Adjustment& adjustment = {}) const noexcept;

  // Makes the draw. `logits` must be the server's final distribution (after temperature, top-k, top-p; excluded ids
  // at -inf). uniforms[r] in [0, 1) drives the draws that need one (KGW, tournament, unwatermarked steps); nullptr:
  // each sequence's fallback RNG. out_tokens[r] receives the id (-1 for a row whose state is nullptr). KGW applies its
  // bias to the row in place before sampling. mask_others: every other id of the row becomes -inf, for hosts that
  // can only edit logits (Hugging Face, vLLM).
  // `adjustment` is added to the logits (in place) before the draw.
  Status choose(std::span<SeqState* const> rows, const LogitsView& logits, const float* uniforms, int32_t* out_tokens,
                bool mask_others = false, const Adjustment& adjustment = {}) const noexcept;
  Status choose_candidates(SeqState& seq, const CandidatesView& cand, float uniform, size_t* out_index,
                           const Adjustment& adjustment = {}) const noexcept;

  const SchemeParams& params() const;

 private:
  explicit Hook(std::unique_ptr<detail::HookImpl> impl);
  std::unique_ptr<detail::HookImpl> impl_;
  friend class Detector;
};

// The detection side: scores tokens with the same keyed values the hook used. One per thread (it owns a keystream).
class Detector {
 public:
  static Result<Detector> create(const KeyRing& keys, const SchemeParams& params);
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;
  ~Detector();
  Result<Detector> clone() const;

  const SchemeParams& params() const;
  NullModel null_model() const;
  // Tokens of context a token needs before it can be scored: window_size(params()).
  uint32_t window_size() const;

  // The score of `token` after `window` (exactly window_size() tokens, oldest first). Ids >= vocab_size score as if
  // red / r = 0 (never favoured).
  double score(std::span<const int32_t> window, int32_t token);
  // Scores tokens[i] for every i in [first, tokens.size()), with the window taken from tokens itself, and writes the
  // tokens.size() - first scores to out. Refuses (invalid argument, nothing written) first < window_size() and an
  // out shorter than the scores. Batched through the cipher: the fast path.
  Status score_sequence(std::span<const int32_t> tokens, size_t first, std::span<double> out);
  // For the tournament: the m g-values of `token` as bits (bit l = layer l). Other schemes: 0.
  uint32_t g_values(std::span<const int32_t> window, int32_t token);
  // For the fingerprint scheme's account layer: out[i - first] = position << 1 | bit for tokens[i], i in
  // [first, tokens.size()) (first >= window_size()), where position (0..65535) is the codeword position the step
  // carried and bit the token's keyed bit; 0xffffffff for an id outside the vocabulary (spec/fingerprint.md).
  // (score() and score_sequence() of a fingerprint detector score its zero-bit layer, exactly as KGW.)
  // kUnsupported for other schemes.
  Status account_marks(std::span<const int32_t> tokens, size_t first, std::span<uint32_t> out);

 private:
  Detector() = default;
  std::unique_ptr<Hook> hook_;
  Keystream keystream_;
  Keystream account_keystream_;
  std::unique_ptr<detail::Workspace> ws_;
};

}  // namespace telltale
