// What every actor of a node shares: settings, the room directory, the presence actor,
// node-wide counters and the client message id index, and (when storage is on) the
// persistence pool and the store readers.
#pragma once

#include "actors/cid_index.hpp"
#include "actors/interfaces.hpp"
#include "actors/room_directory.hpp"
#include "config/node_config.hpp"

#include <caf/actor_system.hpp>

#include <atomic>
#include <chrono>
#include <memory>

namespace chat {

class persistence_pool;
class store_readers;
struct redis_bridge;

struct node_context {
  node_context(caf::actor_system& system, config::node_config settings);

  caf::actor_system& sys;
  config::node_config cfg;
  room_directory rooms;
  presence_actor presence;
  std::shared_ptr<persistence_pool> persistence; // null: messages live in memory only
  std::shared_ptr<store_readers> readers;        // set together with persistence
  std::shared_ptr<redis_bridge> redis;           // null: a single node (no redis.uri)
  std::atomic<uint64_t> next_conn_id{1};
  node_counters counters;
  cid_index cids;
  std::atomic<bool> stopping{false}; // shutdown: rooms no longer stop for idleness
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// Spawns the presence actor and wires the room directory to spawn room actors.
std::shared_ptr<node_context> make_node_context(caf::actor_system& sys,
                                                const config::node_config& cfg);

int64_t now_ms();

} // namespace chat
