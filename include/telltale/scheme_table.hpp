// The scheme table: what each watermark scheme is, written once for every boundary (CLI, evidence records, reports,
// Python, C ABI, demo): its name, its parameter fields, its null model, and the words a report uses for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "telltale/scheme.hpp"

namespace telltale {

// What a per-token score is distributed as when the text never saw the key (spec/statistics.md).
enum class NullKind {
  kBernoulli,     // score in {0, 1}, P(1) = p                               (KGW: p = effective gamma)
  kExponential,   // score = -ln(1 - r), r uniform: Exp(1); sums are Gamma   (Gumbel)
  kBinomial,      // score = number of ones among `layers` fair bits         (tournament)
  kWeightedBits,  // score = sum_l tournament_weight(l, layers) * (fair bit l)  (tournament, weighted mean)
};
struct NullModel {
  NullKind kind = NullKind::kBernoulli;
  double p = 0.5;
  uint32_t layers = 1;
};

// One scheme-specific parameter. `name` is its only name: the evidence record's key, the Python keyword and
// property, the tt_params field, and (with '_' written '-') the CLI flag. Defaults live in SchemeParams alone.
struct SchemeField {
  enum class Type {
    kFraction,  // double in (0, 1)
    kLogits,    // float32, in logits
    kCount,     // uint32
    kChoice,    // an enum with names (choices[value])
  };
  const char* name;
  const char* label;  // for a report's parameters table, e.g. "gamma (green fraction)"
  const char* help;   // one line: the schemes that read it, what it is, its unit and range
  Type type;
  double (*get)(const SchemeParams& params);  // kChoice: the enum's value
  void (*set)(SchemeParams& params, double value);
  uint32_t schemes;                           // bit (1 << kind) for each scheme that reads it
  bool recorded_for_every_scheme;             // records carry it whatever the scheme (they did before the table: kept)
  std::span<const char* const> choices = {};  // kChoice only
  bool applies_to(SchemeKind kind) const { return (schemes >> static_cast<uint32_t>(kind) & 1u) != 0; }
};

// Every scheme-specific parameter, in record order.
std::span<const SchemeField> scheme_fields();
// The field of that name; nullptr for none.
const SchemeField* find_scheme_field(std::string_view name);

// The words a report uses for a scheme's test.
struct SchemeWords {
  const char* score_label;   // what a per-token score counts, for plot axes (e.g. "0 = red token, 1 = green token")
  const char* score_column;  // a short column heading (e.g. "green", "g=1")
  const char* method;        // how the text was marked and how the test scores it, in plain words for a court
};

namespace detail {
struct SchemeOps;  // what a scheme does per step: internal (src/schemes/scheme_ops.hpp)
}

// One entry per scheme, defined in the scheme's own source file (src/schemes/<name>.cpp): everything the boundaries
// and the hook need to know about it.
struct SchemeInfo {
  SchemeKind kind;
  const char* name;
  const char* summary;            // one line for --help
  const char* kdf_context;        // the KDF context of its subkeys (spec/prf.md): 8 characters, never reused
  bool skip_repeated_by_default;  // the distortion-free schemes would repeat a draw on a repeated context
  // Its own range checks, run by validate() after the common ones; the message names the offending parameter.
  Status (*validate)(const SchemeParams& params);
  // Its part of describe(), "scheme=<name>" and its fields, written as snprintf would into buf.
  void (*describe)(const SchemeParams& params, char* buf, size_t size);
  NullModel (*null_model)(const SchemeParams& params);
  const SchemeWords& (*words)(const SchemeParams& params);
  const detail::SchemeOps* ops;
};
// Every scheme, in the order of their SchemeKind values.
std::span<const SchemeInfo* const> scheme_table();
// The entry of a kind; nullptr for a value no scheme has.
const SchemeInfo* find_scheme(SchemeKind kind);
// The entry of a kind that validate() accepts (a kind no scheme has gets an entry named "unknown" whose validate
// refuses it and whose ops are null).
const SchemeInfo& scheme_info(SchemeKind kind);
// "kgw, gumbel, tournament, fingerprint" (for messages and help).
const char* scheme_name_list();

// The null law of the per-token score the detector of these parameters computes.
NullModel null_model(const SchemeParams& params);
// The mean per-token score under that null: where a report draws "expected without the key".
double null_mean(const NullModel& null);
// What a per-token score counts, for plot axes and table columns (e.g. "0 = red token, 1 = green token").
const char* score_label(const SchemeParams& params);
// A short column heading for the score a token earns (e.g. "green", "g-values = 1").
const char* score_column(const SchemeParams& params);
// The method, in plain words for a court-facing report: how the text was marked and how the test scores it.
const char* method_text(const SchemeParams& params);

}  // namespace telltale
