// Spaces requests at least 1/rate seconds apart (no bursts), and holds them back further when the server asks to
// wait (Retry-After). The clock is steady; sleeping goes through a function so that tests can watch the delays.
#pragma once

#include <chrono>
#include <functional>

namespace telltale::query {

// The range of a rate, in requests per second: one request in 1000 s at the slowest (a slower interval would overflow
// the clock's duration), 10,000 a second at the fastest (past that the limiter limits nothing).
inline constexpr double kMinRequestsPerSecond = 1e-3;
inline constexpr double kMaxRequestsPerSecond = 1e4;

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Sleep = std::function<void(Clock::duration)>;

  // `per_second` in [kMinRequestsPerSecond, kMaxRequestsPerSecond]: the most requests started in any second;
  // `sleep` waits for a duration.
  RateLimiter(double per_second, Sleep sleep) : interval_(to_duration(1.0 / per_second)), sleep_(std::move(sleep)) {}

  // Blocks until the next request may start, and books it.
  void acquire() {
    const auto now = Clock::now();
    if (next_ > now) sleep_(next_ - now);
    const auto start = next_ > now ? next_ : now;
    next_ = start + interval_;
  }

  // No request starts before `seconds` from now.
  void hold_off(double seconds) {
    const auto until = Clock::now() + to_duration(seconds);
    if (until > next_) next_ = until;
  }

  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

 private:
  Clock::duration interval_;
  Sleep sleep_;
  Clock::time_point next_{};
};

}  // namespace telltale::query
