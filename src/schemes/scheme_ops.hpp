// Internal: what a scheme does per step, as the functions its scheme-table entry holds. The hook and the detector
// pick the entry once per call and call through it once per row, candidate list or batch of scored tokens, never
// per token; the per-token loops are the scheme's own, inlined in its file.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hook/step.hpp"
#include "telltale/hook.hpp"
#include "telltale/scheme.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale {
class KeyRing;
}

namespace telltale::detail {

struct HookImpl;

// A list view over a CandidatesView. A copy of the view, not a pointer to it: its pointers and strides then stay in
// registers in the hot loops instead of being reloaded after every store.
struct CandidateList {
  CandidatesView c;
  size_t size() const { return c.n; }
  uint32_t id(size_t i) const { return static_cast<uint32_t>(c.id(i)); }
  float& logit(size_t i) const { return c.logit(i); }
};

struct SchemeOps {
  // The scheme whose KDF context (spec/prf.md) keys the values this scheme reads: itself, or for the fingerprint
  // scheme KGW's, whose zero-bit layer it is.
  SchemeKind subkeys;
  // Sets what the hook holds for the scheme beyond the subkeys above: bits per id, its configuration, any further
  // subkeys. Parameters are valid.
  Status (*setup)(HookImpl& impl, const KeyRing& keys);
  // True for a scheme that rewrites the whole distribution (the tournament): candidates must hold every id with a
  // finite logit, at most vocab_size of them, and a sequence reserves per-id buffers.
  bool whole_distribution;
  // The most the bias adds to any logit: the bound that keeps a candidate list's top-k pruning exact.
  float (*max_bias)(const HookImpl& impl);

  // Generation on a watermarked step (`keys` prepared). bias_row edits row[0..n) of a dense row whose allocated width
  // is n_vocab (n <= vocab_size); top_k as BiasOptions. nullptr for a scheme that makes the draw itself (Gumbel).
  void (*bias_row)(const HookImpl& impl, SeqState& seq, const StepKeys& keys, float* row, uint32_t n, int64_t n_vocab,
                   uint32_t top_k);
  void (*bias_list)(const HookImpl& impl, SeqState& seq, const StepKeys& keys, CandidateList list);
  // The draw: the index of the chosen entry, -1 when none has a finite logit within the vocabulary.
  ptrdiff_t (*choose_row)(const HookImpl& impl, SeqState& seq, const StepKeys& keys, DenseList list, double uniform);
  ptrdiff_t (*choose_list)(const HookImpl& impl, SeqState& seq, const StepKeys& keys, CandidateList list,
                           double uniform);

  // Detection: out[i] = the score of keyed value values[i] (read at the hook's bits per id) for tokens[i] within the
  // vocabulary, 0 for a token outside it (negative or >= vocab_size), i < n.
  void (*score)(const HookImpl& impl, const uint32_t* values, const int32_t* tokens, size_t n, double* out);
};

// The table entry's validate for a scheme without parameters of its own: nothing to check.
inline Status no_own_parameters(const SchemeParams&) { return Status::ok(); }

// The table entry's words for a scheme whose report words do not depend on its parameters.
template <const SchemeWords& kWords>
const SchemeWords& fixed_words(const SchemeParams&) {
  return kWords;
}

// The loop every score function runs: score(value) per token within the vocabulary, 0 outside it. Without a branch
// (a token's keyed values are random, so a branch on them mispredicts): score must be finite and >= 0 for every
// value, so that 0 * score is +0 and 1 * score is score, bit for bit.
template <typename Score>
void score_tokens(uint32_t vocab_size, const uint32_t* values, const int32_t* tokens, size_t n, double* out,
                  Score score) {
  for (size_t i = 0; i < n; ++i) {
    const bool in_vocab = (tokens[i] >= 0) & (static_cast<uint32_t>(tokens[i]) < vocab_size);
    out[i] = static_cast<double>(in_vocab) * score(values[i]);
  }
}

}  // namespace telltale::detail
