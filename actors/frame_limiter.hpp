// The rate limit of one connection: a token bucket over every frame its client sends
// (commands, bad frames and control frames alike), with two rules on top. Refusals are
// reported at most once per second (one `rate_limited` error tells how many frames were
// refused since the last one). And a client refused without a pause of a second or more
// for `flood_after` is flooding: its connection is closed (1008).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace chat {

class frame_limiter {
public:
  using clock = std::chrono::steady_clock;

  struct settings {
    double rate = 1000;       // tokens per second
    double burst = 2000;      // bucket size
    clock::duration flood_after = std::chrono::seconds(5); // zero: never a flood
  };

  frame_limiter(settings s, clock::time_point now) : s_(s), tokens_(s.burst), now_(now) {}

  // Once per batch of frames read together, before taking tokens for them.
  void refill(clock::time_point now) {
    std::chrono::duration<double> dt = now - now_;
    now_ = now;
    tokens_ = std::min(s_.burst, tokens_ + std::max(0.0, dt.count()) * s_.rate);
  }

  // Takes tokens for `frames` frames; returns how many of them were refused.
  uint64_t take(uint64_t frames) {
    // Compared as doubles first: the bucket may hold more than a uint64_t (any burst is allowed).
    uint64_t granted = tokens_ >= double(frames) ? frames : uint64_t(tokens_);
    tokens_ -= double(granted);
    if (granted < frames)
      refused(frames - granted);
    return frames - granted;
  }
  bool take() { return take(1) == 0; }

  // True when refusals wait to be reported and the last report is a second old; `count`
  // is then set to the frames refused since that report.
  bool report_due(uint64_t& count) {
    if (unreported_ == 0 || (reported_ && now_ - last_report_ < std::chrono::seconds(1)))
      return false;
    count = unreported_;
    unreported_ = 0;
    reported_ = true;
    last_report_ = now_;
    return true;
  }

  bool flooding() const {
    return s_.flood_after > clock::duration::zero() && streaking_
           && last_refusal_ - streak_start_ >= s_.flood_after;
  }

private:
  void refused(uint64_t frames) {
    if (!streaking_ || now_ - last_refusal_ >= std::chrono::seconds(1)) {
      streaking_ = true;
      streak_start_ = now_;
    }
    last_refusal_ = now_;
    unreported_ += frames;
  }

  settings s_;
  double tokens_;
  clock::time_point now_;
  uint64_t unreported_ = 0;
  bool reported_ = false;
  clock::time_point last_report_;
  bool streaking_ = false;
  clock::time_point streak_start_, last_refusal_;
};

} // namespace chat
