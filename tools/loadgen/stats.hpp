// What one I/O thread counts. Only that thread writes; the reporting thread reads at any
// time. `totals` is a point-in-time sum over threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "histogram.hpp"

namespace chat::loadgen {

// A single-writer counter: a plain load and store, no locked instruction.
class counter {
public:
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

struct thread_stats {
  counter sent;                // send frames queued, whole run
  counter sent_measured;       // ... of them due inside the measured window
  counter send_skipped;        // due while the sender was not connected
  counter expected;            // sent_measured times the members of the room
  counter deliveries;          // msg frames carrying our time stamp, whole run
  counter deliveries_measured; // ... of measured messages, arrived before the drain ended
  counter acks_measured;       // acks of measured messages
  counter order_violations;
  counter disconnects;         // joined connections lost before the end of the run
  recorder latency;            // every delivery (per-second figures)
  recorder latency_measured;   // deliveries counted in deliveries_measured
  recorder ack_latency;        // acks of measured messages

  void count_error(std::string_view code);
  std::map<std::string, uint64_t> errors() const;

private:
  mutable std::mutex errors_mutex_;
  std::map<std::string, uint64_t, std::less<>> errors_;
};

struct totals {
  uint64_t sent = 0;
  uint64_t sent_measured = 0;
  uint64_t send_skipped = 0;
  uint64_t expected = 0;
  uint64_t deliveries = 0;
  uint64_t deliveries_measured = 0;
  uint64_t acks_measured = 0;
  uint64_t order_violations = 0;
  uint64_t disconnects = 0;
  uint64_t errors_total = 0;
  std::map<std::string, uint64_t> errors;
  histogram latency;
  histogram latency_measured;
  histogram ack_latency;

  void add(const thread_stats& s);
};

} // namespace chat::loadgen
