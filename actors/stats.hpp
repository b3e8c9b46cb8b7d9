// Statistics kept by the actors and sessions that update them (no shared lock per
// message) and read on request by the admin endpoint.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace chat {

// Latency histogram with fixed Prometheus buckets (seconds). Owned by one actor; copied
// out in stats replies and merged by the reader.
struct latency_histogram {
  static constexpr std::array<double, 14> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                    0.005,  0.01,    0.025,  0.05,  0.1,
                                                    0.25,   0.5,     1,      2.5};
  std::array<uint64_t, bounds.size() + 1> counts{}; // last: +Inf
  double sum = 0;
  uint64_t count = 0;

  void observe(double seconds) {
    size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i])
      ++i;
    ++counts[i];
    sum += seconds;
    ++count;
  }
  void merge(const latency_histogram& o) {
    for (size_t i = 0; i < counts.size(); ++i)
      counts[i] += o.counts[i];
    sum += o.sum;
    count += o.count;
  }
};

// The same buckets, updated from several threads (persistence writers).
struct shared_histogram {
  std::array<std::atomic<uint64_t>, latency_histogram::bounds.size() + 1> counts{};
  std::atomic<uint64_t> sum_ns{0}, count{0};

  void observe(double seconds) {
    size_t i = 0;
    while (i < latency_histogram::bounds.size() && seconds > latency_histogram::bounds[i])
      ++i;
    counts[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns.fetch_add(uint64_t(seconds * 1e9), std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
  }
  latency_histogram snapshot() const {
    latency_histogram h;
    for (size_t i = 0; i < counts.size(); ++i)
      h.counts[i] = counts[i].load(std::memory_order_relaxed);
    h.sum = double(sum_ns.load(std::memory_order_relaxed)) / 1e9;
    h.count = count.load(std::memory_order_relaxed);
    return h;
  }
};

// Batch sizes of the persistence writers (bucket upper bounds in messages).
struct batch_size_histogram {
  static constexpr std::array<uint64_t, 11> bounds = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000,
                                                      5000};
  std::array<std::atomic<uint64_t>, bounds.size() + 1> counts{};
  std::atomic<uint64_t> sum{0}, count{0};

  void observe(uint64_t n) {
    size_t i = 0;
    while (i < bounds.size() && n > bounds[i])
      ++i;
    counts[i].fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(n, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
  }
};

// Why a connection was closed for what its client sent, and the close code it got:
// protocol 1002, invalid_utf8 1007, too_big 1009, frame_timeout and flood 1008.
enum class ws_violation { protocol, invalid_utf8, too_big, frame_timeout, flood };
constexpr size_t ws_violation_kinds = 5;

// Per-message counters summed over the node, written from the rooms' threads: a few
// cache-line-separated stripes, each thread adding to its own, so no two threads fight
// over one line on the hot path. Read (summed) by the admin endpoint.
class traffic_counters {
public:
  struct totals {
    uint64_t messages = 0, deliveries = 0, acks_seq = 0;
    latency_histogram latency; // send (frame read) -> handed to every member's queue
  };

  void message(uint64_t deliveries) {
    auto& s = mine();
    s.messages.fetch_add(1, std::memory_order_relaxed);
    s.deliveries.fetch_add(deliveries, std::memory_order_relaxed);
  }
  void ack_seq() { mine().acks_seq.fetch_add(1, std::memory_order_relaxed); }
  void latency(double seconds) { mine().latency.observe(seconds); }
  totals sum() const {
    totals t;
    for (const auto& s : stripes_) {
      t.messages += s.messages.load(std::memory_order_relaxed);
      t.deliveries += s.deliveries.load(std::memory_order_relaxed);
      t.acks_seq += s.acks_seq.load(std::memory_order_relaxed);
      t.latency.merge(s.latency.snapshot());
    }
    return t;
  }

private:
  struct alignas(64) stripe {
    std::atomic<uint64_t> messages{0}, deliveries{0}, acks_seq{0};
    shared_histogram latency;
  };
  static constexpr size_t stripe_count = 8;
  stripe& mine() {
    static std::atomic<size_t> next{0};
    thread_local size_t index = next.fetch_add(1, std::memory_order_relaxed) % stripe_count;
    return stripes_[index];
  }
  std::array<stripe, stripe_count> stripes_;
};

// Node-wide counters of rare events (errors, drops, room starts and stops, store problems)
// and of sessions that are gone.
// Socket.IO connection-state recovery: what became of each CONNECT with a pid and of each
// disconnected socket's state (see net/socketio_recovery.hpp).
enum class sio_recovery_result { recovered, unknown, offset_not_found, user_mismatch, expired,
                                 overflow, closed };
constexpr size_t sio_recovery_results = 7;
constexpr const char* sio_recovery_names[sio_recovery_results] = {
  "recovered", "unknown", "offset_not_found", "user_mismatch", "expired", "overflow", "closed"};

struct node_counters {
  std::array<std::atomic<uint64_t>, 9> errors{}; // by error_code
  std::array<std::atomic<uint64_t>, ws_violation_kinds> ws_violations{};
  std::atomic<uint64_t> rate_limited_frames{0}; // refused frames (errors are coalesced)
  std::atomic<uint64_t> slow_consumer_drops{0};
  std::atomic<uint64_t> closed_frames_in{0}, closed_frames_out{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> rooms_started{0}, rooms_stopped{0};
  std::atomic<uint64_t> room_start_failures{0}; // start-up store reads that failed
  std::atomic<uint64_t> rooms_refused{0};       // joins refused at chat.max-rooms
  std::atomic<uint64_t> store_read_failures{0}; // history, replay and start-up reads
  std::atomic<uint64_t> decrypt_failures{0};    // stored bodies that failed to decrypt
  std::atomic<uint64_t> cid_conflicts{0};       // sends answered `conflict`
  std::atomic<uint64_t> cids_dropped{0};        // stored without a cid another message holds
  std::atomic<int64_t> ring_bytes{0};           // bytes held by all rooms' replay rings
  std::atomic<uint64_t> presence_handled{0};    // messages the presence actor handled
  std::array<std::atomic<uint64_t>, 3> pruned{}; // retention: access log, users, messages
  std::atomic<uint64_t> prune_failures{0};
  // Redis (multi-node): sends Redis did not sequence, gap repairs started, seqs skipped
  // because neither the room's stream nor the store held them, undecodable messages, sends
  // whose cid was looked up in the store because Redis had lost its dedupe entries.
  std::atomic<uint64_t> redis_send_failures{0}, redis_repairs{0}, redis_seq_skipped{0};
  std::atomic<uint64_t> redis_bad_messages{0}, redis_cid_checks{0};
  std::array<std::atomic<uint64_t>, sio_recovery_results> sio_recoveries{};
  std::atomic<int64_t> sio_detached{0}; // Socket.IO sockets waiting to be recovered
  traffic_counters traffic;
};

struct member_info {
  std::string user;
  uint64_t conn = 0;
};

struct room_stats {
  std::string room;
  uint64_t members = 0;
  uint64_t last_seq = 0;
  uint64_t messages = 0;   // sequenced on this node
  uint64_t deliveries = 0; // frames handed to member queues for those messages
  uint64_t acks_seq = 0;
  uint64_t handled = 0;    // actor messages handled
  uint64_t mailbox = 0;
  double rate = 0;         // messages per second (admin samples)
  double handled_rate = 0; // actor messages per second
  std::vector<member_info> member_list;
};

struct connection_stats {
  std::vector<std::string> rooms;
  uint64_t handled = 0;
  uint64_t mailbox = 0;
};

} // namespace chat
