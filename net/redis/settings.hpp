// What the Redis layer needs to know, taken from the node's configuration ([redis] keys)
// or filled in directly by tests and tools.
#pragma once

#include "config/node_config.hpp"
#include "config/redis_uri.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chat::redis {

using millis = std::chrono::milliseconds;
using endpoint = config::redis_endpoint;

struct settings {
  std::vector<endpoint> seeds;  // the server, or a cluster's seed nodes
  bool cluster = false;         // slot routing, MOVED/ASK, SPUBLISH/SSUBSCRIBE
  std::string user, password;   // AUTH when the password is set
  uint32_t db = 0;              // SELECT (single server only)
  millis connect_timeout{1000}; // resolve + connect + AUTH/SELECT
  millis command_timeout{2000}; // oldest unanswered command older than this: reset
  millis unavailable_timeout{2000}; // a command waits this long for a reachable server
  millis reconnect_min{50}, reconnect_max{2000};
  std::chrono::microseconds batch_delay{3000}; // batched commands: one write this often at most
  uint64_t queue_commands = 100000; // unanswered commands accepted at most
  uint64_t queue_bytes = 64ull << 20;
  uint32_t stream_max = 1000;   // entries kept per room stream (MAXLEN ~)
  uint32_t dedupe_window = 2000; // (user, cid) pairs remembered per room
  millis room_idle_ttl{86400000}; // a quiet room's stream and dedupe hashes expire
  millis node_ttl{10000};       // presence: a node silent this long is dead
  std::string node = "node";    // this node's name (presence, message origin)
  size_t max_message_bytes = 1 << 20; // a decoded room message at most
  // A reply's bytes at most: strings kept plus input buffered for the item being read (a
  // bulk string is buffered whole). From_config sizes it for the largest legitimate reply,
  // a stream page of max_fetch_rows messages.
  size_t max_reply_bytes = 64u << 20;
  static constexpr uint32_t max_fetch_rows = 1000;
  // Not a configuration key: when set, each read's replies and channel messages are
  // handled inside it (it calls its argument once), e.g. in a lane batch of the thread.
  std::function<void(const std::function<void()>&)> read_scope;
};

// Fills settings from the node's configuration; "" or an error line.
std::string from_config(const config::node_config& cfg, settings& out);

} // namespace chat::redis
