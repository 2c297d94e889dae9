// The bounds every JSON file of a bundle is read under (spec/evidence-bundle.md, "Limits"): a size per file and a
// nesting depth checked on the bytes before any DOM is built, so a hostile record cannot exhaust memory or the stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "telltale/status.hpp"

namespace telltale::evidence {

// Objects and arrays nested deeper than this are refused (records written by telltale nest fewer than 10 levels).
inline constexpr size_t kMaxJsonDepth = 64;
// record.json and report.html: they hold every document's result, so a large corpus makes them large.
inline constexpr uint64_t kMaxRecordBytes = uint64_t{256} << 20;
// manifest.json lists two files: a few hundred bytes.
inline constexpr uint64_t kMaxManifestBytes = uint64_t{64} << 10;

// Checks that `bytes` nest objects and arrays at most kMaxJsonDepth deep (brackets outside strings; a malformed text
// is left to the parser). The message starts with `name`.
Status check_json_depth(std::string_view bytes, const std::string& name);

}  // namespace telltale::evidence
