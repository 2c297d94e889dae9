// A test-only scheme, "parity": a fixed bias of kDelta logits on the ids whose keyed bit is 1. It exists to show that
// adding a scheme takes what docs/adding-a-scheme.md says: this file pair, one line in the scheme table and one
// SchemeKind enumerator, all compiled only into the test library telltale_test_scheme (TELLTALE_TEST_SCHEME).
#pragma once

#include "telltale/scheme_table.hpp"

namespace telltale::parity {

inline constexpr float kDelta = 2.0f;  // logits added to an id whose keyed bit is 1
inline constexpr unsigned kBits = 1;   // keyed bits per id

// The scheme's entry in the scheme table.
extern const SchemeInfo kInfo;

}  // namespace telltale::parity
