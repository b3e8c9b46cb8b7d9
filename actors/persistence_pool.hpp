// The persistence pool: `storage.writers` writer actors, each owning one store connection
// and coalescing messages into bulk inserts. A room always maps to the same writer, so
// per-room write order holds. Nothing is dropped: failed batches are retried with backoff
// (each failure logged, rate-limited, and counted); the backlog is bounded in messages and
// bytes by refusing new sends (error "unavailable") past `storage.backlog-max` or
// `storage.backlog-bytes`, while persisted acks wait for their commit. Writers also make
// rooms' seq reservations durable (seq marks) ahead of the messages that use them. At
// shutdown, what the store cannot take within `storage.shutdown-timeout` is handed back
// to be saved in a recovery file.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/stats.hpp"
#include "config/node_config.hpp"
#include "storage/message_store.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace chat {

struct store_item;
struct writer_inbox;

struct writer_stats {
  uint64_t pending = 0;
  uint64_t handled = 0;
};

struct pool_stats {
  uint64_t stored = 0;        // messages committed
  uint64_t batches = 0;       // commits
  uint64_t failures = 0;      // failed batch attempts
  uint64_t backlog = 0;       // messages handed over and not yet committed
  uint64_t backlog_bytes = 0;
};

// What the writers could not store before the shutdown deadline.
struct shutdown_leftovers {
  std::vector<chat_message> messages;
  bool users_flushed = true; // online flags and access-log rows all written
};

class persistence_pool {
public:
  using store_factory = std::function<std::unique_ptr<storage::message_store>()>;
  using user_store_factory = std::function<std::unique_ptr<storage::user_store>()>;

  persistence_pool(caf::actor_system& sys, const config::node_config& cfg, store_factory make,
                   user_store_factory make_users);
  ~persistence_pool();

  // Queues `m` for storage. With `ack_to`, the sender gets its ack after the commit.
  // `room` hears (r_persist) how far its messages are committed, once per batch.
  void store(const chat_message& m, const member_ref* ack_to, const std::string& rid,
             room_actor room = {});
  // Makes `room`'s seq reservation up to `mark` durable; the room hears r_mark once it is.
  void reserve(const room_actor& room, const std::string& name, uint64_t mark);
  // A room gives back its unused reservation: mark `from` becomes `to`; `room` (when
  // given) hears r_freed once that is durable.
  void release(const std::string& name, uint64_t from, uint64_t to, const room_actor& room = {});
  // Presence and the access log go to a separate writer (coalesced, retried).
  void set_online(const std::string& user, bool online);
  void log_access(storage::access_entry entry);
  // Counts a persisted ack sent by a room (a repeated cid whose message is committed).
  void count_persisted_ack();
  // Commits what every writer holds, retrying until `deadline`; returns what is left.
  shutdown_leftovers flush_and_stop(std::chrono::steady_clock::time_point deadline);

  bool backlog_full() const {
    return backlog_.load(std::memory_order_relaxed) >= backlog_max_
           || backlog_bytes_->load(std::memory_order_relaxed) >= backlog_bytes_max_;
  }
  pool_stats stats() const;
  // Per writer: items waiting (in its inbox or its uncommitted batch) and wake-ups handled.
  std::vector<writer_stats> writer_details() const;
  // No writer's last commit attempt failed (no store call: never waits).
  bool healthy() const;

  // Shared with the writers.
  struct counters {
    std::atomic<uint64_t> stored{0}, batches{0}, failures{0};
    std::atomic<uint64_t> acks_persisted{0};
    std::atomic<uint64_t> mark_writes{0}; // seq-reservation transactions
    // Access-log entries dropped while the store failed (past storage.backlog-max).
    std::shared_ptr<std::atomic<uint64_t>> access_dropped =
      std::make_shared<std::atomic<uint64_t>>(0);
    // Messages stored without their cid (another stored message holds it).
    std::atomic<uint64_t> cids_dropped{0};
    shared_histogram write_latency;   // seconds per commit
    batch_size_histogram batch_sizes; // messages per commit
  };
  const counters& details() const { return *counters_; }

private:
  void enqueue(store_item&& item);
  size_t writer_of(const std::string& room) const;

  caf::actor_system& sys_;
  std::vector<caf::actor> writers_;
  std::vector<std::shared_ptr<writer_inbox>> inboxes_;
  size_t batch_max_ = 1000;
  caf::actor user_writer_;
  std::atomic<uint64_t> backlog_{0};
  std::shared_ptr<std::atomic<uint64_t>> backlog_bytes_;
  uint64_t backlog_max_;
  uint64_t backlog_bytes_max_;
  std::shared_ptr<counters> counters_;
};

// Bytes a queued message holds (its strings and bookkeeping), for the byte bounds.
inline uint64_t message_footprint(const chat_message& m) {
  return m.text.size() + m.user.size() + m.cid.size() + m.room.size() + 160;
}

} // namespace chat

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<chat::chat_message>)
