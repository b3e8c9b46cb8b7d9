// Bounded exponential backoff with jitter for reconnects: min, 2*min, ... up to max, each
// delay drawn from [d/2, d] so that nodes that lost Redis together do not retry in step.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace chat::redis {

class backoff {
public:
  backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
    : min_(min.count() > 0 ? min.count() : 1), max_(max.count() > min_ ? max.count() : min_),
      next_(min_), rng_(std::random_device{}()) {}

  std::chrono::milliseconds next() {
    int64_t d = next_;
    next_ = d > max_ / 2 ? max_ : d * 2;
    std::uniform_int_distribution<int64_t> jitter(d / 2, d);
    return std::chrono::milliseconds(jitter(rng_));
  }
  void reset() { next_ = min_; }

private:
  int64_t min_, max_, next_;
  std::minstd_rand rng_;
};

} // namespace chat::redis
