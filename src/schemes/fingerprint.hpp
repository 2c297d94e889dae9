// The account layer of the fingerprint scheme: the generation side (add delta to the ids whose keyed bit is the
// account's codeword bit at the step's position) and the detection side (the step's position and the token's bit),
// together. The zero-bit layer is plain KGW (kgw.hpp). Normative: spec/fingerprint.md.
#pragma once

#include "hook/step.hpp"
#include "schemes/kgw.hpp"
#include "telltale/fingerprint.hpp"
#include "telltale/scheme_table.hpp"

namespace telltale::fingerprint {

inline constexpr unsigned kBits = 1;  // one keyed bit per vocabulary id

struct Config {
  float delta = 2.0f;
};

// The codeword position a step carries: the low 16 bits of its account-layer seed's fingerprint.
inline uint32_t position(const StepSeed& seed) { return static_cast<uint32_t>(seed.fingerprint() & 0xffffu); }

// What the detector reads from one scored token: position << 1 | keyed bit of the token.
inline uint32_t mark(uint32_t position, uint32_t bit) { return position << 1 | bit; }
inline constexpr uint32_t kNoMark = kFingerprintNoMark;

// Adds delta to every id of the list (ids < vocab_size) whose keyed bit equals `favoured`. `keys` are the account
// layer's: its seed and keystream, 1 bit per id.
template <typename List>
void bias_list(const Config& c, const detail::StepKeys& keys, List list, uint32_t vocab_size, unsigned favoured) {
  const float delta = c.delta;
  keys.for_each_value(
      list.size(), [list](size_t i) { return list.id(i); },
      [&](size_t i, uint32_t value) {
        const bool in_vocab = list.id(i) < vocab_size;
        float& x = list.logit(i);
        x = kgw::select_add(x, delta, in_vocab & (value == favoured));
      });
}

// The scheme's entry in the scheme table (telltale/scheme_table.hpp), defined in its .cpp.
extern const SchemeInfo kInfo;

}  // namespace telltale::fingerprint
