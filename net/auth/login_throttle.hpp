// Throttling of password attempts: failed logins (and registrations, which cost a hash
// too) are counted per client address and per account name in leaky buckets — `max`
// attempts, draining at max per `window`. A key whose bucket is full is refused until it
// has drained enough for one more attempt, before any hashing. Tables are bounded: past
// `max_keys` the emptiest entries are forgotten first.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chat::auth {

class failure_throttle {
public:
  using clock = std::chrono::steady_clock;

  failure_throttle(uint32_t max, std::chrono::milliseconds window, size_t max_keys);

  // 0 when `key` may try now; otherwise whole seconds (at least 1) until it may.
  int64_t wait_s(const std::string& key, clock::time_point now);
  // Counts one attempt against `key`.
  void count(const std::string& key, clock::time_point now);
  size_t size() const;

private:
  struct bucket {
    double level = 0;
    clock::time_point at;
  };
  double drained(const bucket& b, clock::time_point now) const;
  void make_room(clock::time_point now);

  double max_;
  double per_s_; // drain rate
  size_t max_keys_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, bucket> keys_;
};

// Both throttles of password attempts.
struct login_throttle {
  failure_throttle by_address, by_user;

  // Seconds until this address may try this name (0: now).
  int64_t wait_s(const std::string& address, const std::string& user,
                 failure_throttle::clock::time_point now) {
    return std::max(by_address.wait_s(address, now), user.empty() ? 0 : by_user.wait_s(user, now));
  }
};

} // namespace chat::auth
