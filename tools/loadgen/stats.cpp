// Error bookkeeping of one I/O thread and summing thread counters into totals.
#include "stats.hpp"

namespace chat::loadgen {

void thread_stats::count_error(std::string_view code) {
  std::lock_guard lock{errors_mutex_};
  auto it = errors_.find(code);
  if (it == errors_.end())
    errors_.emplace(std::string(code), 1);
  else
    ++it->second;
}

std::map<std::string, uint64_t> thread_stats::errors() const {
  std::lock_guard lock{errors_mutex_};
  return {errors_.begin(), errors_.end()};
}

void totals::add(const thread_stats& s) {
  sent += s.sent.get();
  sent_measured += s.sent_measured.get();
  send_skipped += s.send_skipped.get();
  expected += s.expected.get();
  deliveries += s.deliveries.get();
  deliveries_measured += s.deliveries_measured.get();
  acks_measured += s.acks_measured.get();
  order_violations += s.order_violations.get();
  disconnects += s.disconnects.get();
  for (const auto& [code, n] : s.errors()) {
    errors[code] += n;
    errors_total += n;
  }
  s.latency.snapshot_into(latency);
  s.latency_measured.snapshot_into(latency_measured);
  s.ack_latency.snapshot_into(ack_latency);
}

} // namespace chat::loadgen
