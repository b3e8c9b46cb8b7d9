// The run's timeline on the load generator's steady clock (nanoseconds) and the open-loop
// send schedule: message m of the run is due at start + m * period and is sent by sender
// m % senders, so sender j sends its k-th message at start + (j + k * senders) * period.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace chat::loadgen {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct schedule {
  static constexpr int64_t never = std::numeric_limits<int64_t>::max();

  int64_t start = never;         // the first message is due
  int64_t measure_begin = never; // end of warm-up
  int64_t measure_end = never;   // no message is due at or after this
  int64_t drain_end = never;     // measured messages arriving later are not counted
  double period_ns = 0;          // between two consecutive messages of the whole run
  uint64_t senders = 0;

  int64_t due(uint64_t sender, uint64_t k) const {
    return start + static_cast<int64_t>(static_cast<double>(sender + k * senders) * period_ns);
  }
  bool measured(int64_t due_ns) const { return due_ns >= measure_begin && due_ns < measure_end; }
};

} // namespace chat::loadgen
