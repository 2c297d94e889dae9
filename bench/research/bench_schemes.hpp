// The scheme configurations the research bench measures: every scheme, and KGW at a few (gamma, delta) including the
// paper's gamma = 0.25, delta = 2 with its original one-token context (h = 1) and with ours (h = 4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "telltale/scheme.hpp"

namespace telltale::research {

struct BenchScheme {
  std::string name;  // stable label used in every CSV row, e.g. "kgw g=0.25 d=2 h=4"
  SchemeParams params;
};

std::vector<BenchScheme> bench_schemes(uint32_t vocab_size);

inline bool is_kgw(const BenchScheme& s) { return s.params.scheme == SchemeKind::kKgw; }

}  // namespace telltale::research
