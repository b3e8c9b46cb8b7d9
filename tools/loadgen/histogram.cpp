// Bucket arithmetic, percentiles and snapshots of the log-linear latency histogram.
#include "histogram.hpp"

#include <algorithm>
#include <cmath>

namespace chat::loadgen {

std::size_t histogram::bucket_of(uint64_t value) {
  if (value < sub_buckets)
    return static_cast<std::size_t>(value);
  const unsigned top_bit = 63u - static_cast<unsigned>(__builtin_clzll(value));
  const unsigned shift = top_bit - sub_bucket_bits;
  // value >> shift lies in [sub_buckets, 2 * sub_buckets).
  return shift * sub_buckets + static_cast<std::size_t>(value >> shift);
}

uint64_t histogram::bucket_upper(std::size_t bucket) {
  if (bucket < sub_buckets)
    return bucket;
  const unsigned shift = static_cast<unsigned>(bucket / sub_buckets) - 1;
  const uint64_t mantissa = bucket - shift * sub_buckets;
  // For the very last bucket (mantissa + 1) << shift wraps to 0, giving 2^64 - 1.
  return ((mantissa + 1) << shift) - 1;
}

histogram::histogram() : counts_(bucket_count, 0) {}

void histogram::add_to_bucket(std::size_t bucket, uint64_t n) {
  counts_[bucket] += n;
  total_ += n;
}

void histogram::raise_max(uint64_t value) { max_ = std::max(max_, value); }

void histogram::add(const histogram& other) {
  for (std::size_t i = 0; i < bucket_count; ++i)
    counts_[i] += other.counts_[i];
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
}

void histogram::subtract(const histogram& earlier) {
  uint64_t top = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    counts_[i] -= std::min(counts_[i], earlier.counts_[i]);
    if (counts_[i] != 0)
      top = std::min(bucket_upper(i), max_);
  }
  total_ -= std::min(total_, earlier.total_);
  max_ = top;
}

uint64_t histogram::percentile(double q) const {
  if (total_ == 0)
    return 0;
  const double wanted = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(total_));
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(wanted), 1, total_);
  uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank)
      return std::min(bucket_upper(i), max_);
  }
  return max_;
}

recorder::recorder() : counts_(new std::atomic<uint64_t>[histogram::bucket_count]()) {}

void recorder::snapshot_into(histogram& out) const {
  for (std::size_t i = 0; i < histogram::bucket_count; ++i)
    out.add_to_bucket(i, counts_[i].load(std::memory_order_relaxed));
  out.raise_max(max_.load(std::memory_order_relaxed));
}

} // namespace chat::loadgen
