#include "bench_schemes.hpp"

#include <cstdio>

namespace telltale::research {
namespace {

BenchScheme kgw(uint32_t vocab, double gamma, float delta, uint32_t h) {
  SchemeParams p = default_params(SchemeKind::kKgw, vocab);
  p.kgw.gamma = gamma;
  p.kgw.delta = delta;
  p.context_width = h;
  char name[64];
  std::snprintf(name, sizeof name, "kgw g=%g d=%g h=%u", gamma, static_cast<double>(delta), h);
  return {name, p};
}

}  // namespace

std::vector<BenchScheme> bench_schemes(uint32_t vocab) {
  std::vector<BenchScheme> out = {
      kgw(vocab, 0.25, 2.0f, 1),  // Kirchenbauer et al. 2023's setting (previous token seeds the green list)
      kgw(vocab, 0.25, 2.0f, 4),  // our default
      kgw(vocab, 0.25, 1.0f, 4), kgw(vocab, 0.25, 4.0f, 4), kgw(vocab, 0.5, 2.0f, 4),
  };
  out.push_back({"gumbel h=4", default_params(SchemeKind::kGumbel, vocab)});
  out.push_back({"tournament m=30 h=4", default_params(SchemeKind::kTournament, vocab)});
  return out;
}

}  // namespace telltale::research
