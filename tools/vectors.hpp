// Shared pieces of the test-vector generator (tools/make_test_vectors.cpp): hex and bit helpers, the JSON form of
// SchemeParams, and the sections beyond the PRF basics, each written by its own file.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "telltale/telltale.hpp"

namespace telltale::vectors {

std::string hex(const uint8_t* p, size_t n);
// 16 hex digits, most significant first: 64-bit values survive JSON readers that parse numbers as doubles.
std::string hex64(uint64_t v);
uint32_t float_bits(float f);
std::vector<uint32_t> row_bits(std::span<const float> row);

// Every SchemeParams field by name (scheme, vocab_size, context_width, self_hash, skip_repeated_contexts,
// context_history, gamma, delta, account_delta, layers, score); deltas as the float32 widened to double.
nlohmann::json params_json(const SchemeParams& p);

// account_subkeys, describe, params_refused, context_fingerprints, scores_edge_cases (tools/vectors_core.cpp).
Status add_core_sections(nlohmann::json& out, const KeyRing& ring);
// hook_cases, hook_tournament_probabilities, fallback_draws, repeated_contexts, gumbel_tie, fingerprint_steps,
// fingerprint_code (tools/vectors_hook.cpp).
Status add_hook_sections(nlohmann::json& out, const KeyRing& ring);
// hashes, statistics and fingerprint_attribution (tools/vectors_verifier.cpp).
Status add_verifier_sections(nlohmann::json& out);

}  // namespace telltale::vectors
