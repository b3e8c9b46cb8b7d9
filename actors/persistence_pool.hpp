// The persistence pool: `storage.writers` writer actors, each owning one store connection
// and coalescing messages into bulk inserts. A room always maps to the same writer, so
// per-room write order holds. Nothing is dropped: failed batches are retried with backoff;
// the backlog is bounded by refusing new sends (error "unavailable") past
// `storage.backlog-max`, while persisted acks wait for their commit.
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
  // Presence and the access log go to a separate writer (coalesced, retried).
  void set_online(const std::string& user, bool online);
  void log_access(storage::access_entry entry);
  // Counts a persisted ack sent by a room (a repeated cid whose message is committed).
  void count_persisted_ack();
  // Flushes every writer and waits for it (shutdown).
  void flush_and_stop();

  bool backlog_full() const { return backlog_.load(std::memory_order_relaxed) >= backlog_max_; }
  pool_stats stats() const;
  // Per writer: items waiting (in its inbox or its uncommitted batch) and wake-ups handled.
  std::vector<writer_stats> writer_details() const;
  // The store answers and no writer's last commit attempt failed.
  bool healthy();

  // Reads through a separate connection (history requests, room start-up).
  std::vector<chat_message> read_history(const std::string& room, uint64_t before, uint32_t limit);
  std::vector<chat_message> read_since(const std::string& room, uint64_t after, uint64_t upto);
  std::vector<chat_message> read_recent(const std::string& room, uint32_t limit);
  uint64_t last_seq(const std::string& room);

  // Shared with the writers.
  struct counters {
    std::atomic<uint64_t> stored{0}, batches{0}, failures{0};
    std::atomic<uint64_t> acks_persisted{0};
    // Access-log entries dropped while the store failed (past storage.backlog-max).
    std::shared_ptr<std::atomic<uint64_t>> access_dropped =
      std::make_shared<std::atomic<uint64_t>>(0);
    shared_histogram write_latency;   // seconds per commit
    batch_size_histogram batch_sizes; // messages per commit
  };
  const counters& details() const { return *counters_; }

private:
  void enqueue(store_item&& item);

  caf::actor_system& sys_;
  std::vector<caf::actor> writers_;
  std::vector<std::shared_ptr<writer_inbox>> inboxes_;
  size_t batch_max_ = 1000;
  caf::actor user_writer_;
  std::atomic<uint64_t> backlog_{0};
  uint64_t backlog_max_;
  std::shared_ptr<counters> counters_;
  std::mutex reader_mtx_;
  std::unique_ptr<storage::message_store> reader_;
};

} // namespace chat
