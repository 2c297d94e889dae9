// What the bench programs share: a one-line exit on an error (named by the program) and distinct random account ids.
#pragma once

#include <errno.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "telltale/status.hpp"

namespace telltale::bench {

[[noreturn]] inline void die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, message.c_str());
  std::exit(2);
}

template <typename T>
T check(Result<T> r) {
  if (!r) die(r.status().message());
  return std::move(r).value();
}

// `n` distinct pseudorandom 32-bit account ids, in the order drawn from mt19937_64(seed).
inline std::vector<uint32_t> distinct_random_ids(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<uint32_t> seen;
  std::vector<uint32_t> ids;
  while (ids.size() < n) {
    const auto id = static_cast<uint32_t>(rng());
    if (seen.insert(id).second) ids.push_back(id);
  }
  return ids;
}

}  // namespace telltale::bench
