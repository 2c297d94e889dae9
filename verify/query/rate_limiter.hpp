// Spaces requests at least 1/rate seconds apart (no bursts), and holds them back further when the server asks to
// wait (Retry-After). Shared by concurrent workers: each acquire() books the next free slot under a lock, then sleeps
// outside it, so the rate is a ceiling over all of them together. The clock is steady; sleeping goes through a
// function so that tests can watch the delays.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>

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

  // Blocks until the next request may start, and books it; returns the time booked. Thread-safe.
  Clock::time_point acquire() {
    Clock::time_point now;
    Clock::time_point start;
    {
      std::lock_guard lock(mu_);
      now = Clock::now();
      start = next_ > now ? next_ : now;
      next_ = start + interval_;
    }
    if (start > now) sleep_(start - now);
    return start;
  }

  // No request starts before `seconds` from now (requests already booked keep their slot). Thread-safe.
  void hold_off(double seconds) {
    std::lock_guard lock(mu_);
    const auto until = Clock::now() + to_duration(seconds);
    if (until > next_) next_ = until;
  }

  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

 private:
  Clock::duration interval_;
  Sleep sleep_;
  std::mutex mu_;
  Clock::time_point next_{};
};

}  // namespace telltale::query
