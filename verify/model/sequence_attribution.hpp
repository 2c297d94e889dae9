// Attribution of one token sequence on its own, plain or model-aware, for callers that hold ids rather than files
// (the Python binding): the same account scan, weights and JSON as one document of `attribute [--model]`, so its
// result is that document's `attribute --per-doc` line without its input position and zero-bit object.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "attrib/account_registry.hpp"
#include "model/position_weights.hpp"
#include "telltale/hook.hpp"
#include "telltale/keyring.hpp"
#include "telltale/status.hpp"

namespace telltale::model {

class SequenceAttribution {
 public:
  // `params` must be the fingerprint scheme's; `weigher` (none: the plain test) the account layer's
  // (scheme_weigher(..., true)).
  static Result<SequenceAttribution> create(std::optional<PositionWeigher> weigher, const KeyRing& key,
                                            const SchemeParams& params, attrib::AccountRegistry registry);

  // Tests `ids` (the first `prompt_tokens` a known prompt) against every registered account, Holm over the registry
  // at `alpha` in (0, 1), listing the `top` best besides the attributed ones (attrib::document_account_json; with a
  // model also "model_aware": the weight choice). Each call is independent of the ones before.
  Result<nlohmann::json> attribute(std::span<const int32_t> ids, size_t prompt_tokens, double alpha, size_t top);

  const std::optional<PositionWeigher>& weigher() const { return weigher_; }
  const attrib::AccountRegistry& registry() const { return registry_; }

 private:
  SequenceAttribution(std::optional<PositionWeigher> weigher, Detector detector, attrib::AccountRegistry registry)
      : weigher_(std::move(weigher)), detector_(std::move(detector)), registry_(std::move(registry)) {}
  std::optional<PositionWeigher> weigher_;
  Detector detector_;
  attrib::AccountRegistry registry_;
  std::vector<uint32_t> weights_;
};

}  // namespace telltale::model
