// Internal: what a Hook holds (parameters, subkeys, seeders, per-scheme configuration), shared by the hook, the
// sequence state and the detector, with the step preparation that all three use.
#pragma once

#include <span>

#include "schemes/fingerprint.hpp"
#include "schemes/kgw.hpp"
#include "schemes/scheme_ops.hpp"
#include "schemes/tournament.hpp"
#include "telltale/hook.hpp"

namespace telltale {

struct SeqState::Scratch {
  detail::Workspace ws;
  tournament::Buffers tournament;
};

namespace detail {

enum Armed : uint8_t { kNotArmed = 0, kArmedWatermarked = 1, kArmedRepeated = 2, kArmedNoContext = 3 };

struct HookImpl {
  SchemeParams params;
  const SchemeOps* ops = nullptr;  // the scheme's entry in the scheme table: picked once, when the hook is made
  SecretBytes subkeys;             // seeder key (16) || keystream key (16), in libsodium secure memory
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
  // A sequence's scratch, for the schemes' step functions.
  static Workspace& workspace(SeqState& seq) { return seq.scratch_->ws; }
  static tournament::Buffers& tournament_buffers(SeqState& seq) { return seq.scratch_->tournament; }

  bool has_account_layer() const { return params.scheme == SchemeKind::kFingerprint; }
  // Derives the account layer's subkeys (fingerprint scheme only).
  Status derive_account_keys(const KeyRing& keys);
  // Copies another impl's parameters and subkeys (for Detector::clone).
  Status copy_from(const HookImpl& src);
  // The keystreams a sequence or a detector reads: the scheme's, and the account layer's where there is one. The one
  // place they are opened.
  Status open_keystreams(Keystream& keystream, Keystream& account_keystream) const;

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
}  // namespace telltale
