// Log-linear latency histogram (HdrHistogram-like: 128 linear buckets per power of two, so
// every bucket is within 0.8% of its values) and a recorder that one thread writes while
// another takes snapshots.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace chat::loadgen {

class histogram {
public:
  static constexpr unsigned sub_bucket_bits = 7;
  static constexpr std::size_t sub_buckets = std::size_t{1} << sub_bucket_bits;
  // Values below 2 * sub_buckets have a bucket each; above, every power of two has
  // sub_buckets buckets, up to 2^64 - 1.
  static constexpr std::size_t bucket_count = (64 - sub_bucket_bits + 1) * sub_buckets;

  static std::size_t bucket_of(uint64_t value);
  // The highest value that falls into `bucket`.
  static uint64_t bucket_upper(std::size_t bucket);

  histogram();

  void record(uint64_t value) {
    add_to_bucket(bucket_of(value), 1);
    raise_max(value);
  }
  void add_to_bucket(std::size_t bucket, uint64_t n);
  void raise_max(uint64_t value);
  void add(const histogram& other);
  // Removes an earlier snapshot of the same recorder, leaving what was recorded since.
  void subtract(const histogram& earlier);

  uint64_t count() const { return total_; }
  // Exact for recorded and added values; after subtract() the upper end of the top bucket.
  uint64_t max() const { return max_; }
  // The value at quantile q (0..1): the upper end of its bucket, never above max().
  uint64_t percentile(double q) const;

private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

// Records values on one thread; snapshot() may run on any thread at the same time. Counts
// are atomics written with a plain load and store, so recording costs no locked instruction.
class recorder {
public:
  recorder();

  void record(uint64_t value) {
    bump(counts_[histogram::bucket_of(value)]);
    if (value > max_.load(std::memory_order_relaxed))
      max_.store(value, std::memory_order_relaxed);
  }
  // Adds everything recorded so far to `out`.
  void snapshot_into(histogram& out) const;

private:
  static void bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> max_{0};
};

} // namespace chat::loadgen
