// Leaky-bucket attempt counters (see login_throttle.hpp).
#include "net/auth/login_throttle.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace chat::auth {

failure_throttle::failure_throttle(uint32_t max, std::chrono::milliseconds window,
                                   size_t max_keys)
  : max_(std::max<uint32_t>(1, max)),
    per_s_(max_ / std::max(0.001, std::chrono::duration<double>(window).count())),
    max_keys_(std::max<size_t>(1, max_keys)) {}

double failure_throttle::drained(const bucket& b, clock::time_point now) const {
  double dt = std::chrono::duration<double>(now - b.at).count();
  return std::max(0.0, b.level - std::max(0.0, dt) * per_s_);
}

int64_t failure_throttle::wait_s(const std::string& key, clock::time_point now) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = keys_.find(key);
  if (i == keys_.end())
    return 0;
  double level = drained(i->second, now);
  if (level + 1 <= max_)
    return 0;
  return std::max<int64_t>(1, int64_t(std::ceil((level + 1 - max_) / per_s_)));
}

void failure_throttle::count(const std::string& key, clock::time_point now) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = keys_.find(key);
  if (i == keys_.end()) {
    if (keys_.size() >= max_keys_)
      make_room(now);
    i = keys_.emplace(key, bucket{0, now}).first;
  }
  auto& b = i->second;
  b.level = std::min(max_ + 1, drained(b, now) + 1);
  b.at = now;
}

size_t failure_throttle::size() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return keys_.size();
}

void failure_throttle::make_room(clock::time_point now) {
  for (auto i = keys_.begin(); i != keys_.end();)
    i = drained(i->second, now) <= 0 ? keys_.erase(i) : std::next(i);
  if (keys_.size() < max_keys_)
    return;
  // Still full of live entries: forget the emptier half.
  std::vector<double> levels;
  levels.reserve(keys_.size());
  for (auto& [k, b] : keys_)
    levels.push_back(drained(b, now));
  auto mid = levels.begin() + std::ptrdiff_t(levels.size() / 2);
  std::nth_element(levels.begin(), mid, levels.end());
  double cut = *mid;
  for (auto i = keys_.begin(); i != keys_.end() && keys_.size() >= max_keys_ / 2 + 1;)
    i = drained(i->second, now) <= cut ? keys_.erase(i) : std::next(i);
}

} // namespace chat::auth
