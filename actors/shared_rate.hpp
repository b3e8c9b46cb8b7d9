// A rate limit shared by all connections of one user (chat.user-rate-limit): the generic
// cell rate algorithm — one atomic "theoretical arrival time" per user, so taking tokens
// is a load and a compare-exchange, without a lock, from any actor thread. Equivalent to
// a token bucket of `burst` tokens refilled at `rate` per second.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

namespace chat {

class shared_rate {
public:
  using clock = std::chrono::steady_clock;

  shared_rate(double rate, double burst)
    : interval_ns_(std::max<int64_t>(1, int64_t(1e9 / std::max(rate, 1e-9)))),
      tolerance_ns_(int64_t(std::min(burst, 1e12) * double(interval_ns_))) {}

  // Takes up to `frames` tokens; returns how many were granted (the rest are refused).
  uint64_t take(uint64_t frames, clock::time_point now) {
    if (frames == 0)
      return 0;
    int64_t t = now.time_since_epoch().count();
    int64_t tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      int64_t base = std::max(tat, t);        // tat: when every granted token is paid back
      int64_t room = t + tolerance_ns_ - base; // the bucket's content, in time
      uint64_t granted = room <= 0 ? 0 : std::min<uint64_t>(frames, uint64_t(room / interval_ns_));
      if (granted == 0)
        return 0;
      int64_t next = base + int64_t(granted) * interval_ns_;
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed))
        return granted;
    }
  }

private:
  const int64_t interval_ns_;  // one token's worth of time
  const int64_t tolerance_ns_; // the burst, in time
  std::atomic<int64_t> tat_{std::numeric_limits<int64_t>::min() / 2};
};

} // namespace chat
