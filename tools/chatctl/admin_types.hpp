// Typed views of the admin endpoint's answers (docs/ADMIN.md), one struct per JSON object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chat::chatctl {

struct store_info {
  std::string backend;
  uint64_t backlog = 0;
  uint64_t stored = 0;
  uint64_t batches = 0;
  uint64_t failures = 0;
  bool reachable = false;
};

struct node_info {
  std::string node;
  double uptime_s = 0;
  uint64_t connections = 0;
  uint64_t rooms = 0;
  uint64_t online_users = 0;
  uint64_t actors = 0;
  uint64_t messages = 0;
  uint64_t deliveries = 0;
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  double messages_per_s = 0;
  double deliveries_per_s = 0;
  store_info store;
};

struct room_summary {
  std::string id;
  uint64_t members = 0;
  uint64_t last_seq = 0;
  uint64_t messages = 0;
  double rate = 0;
  uint64_t mailbox = 0;
};

struct room_member {
  std::string user;
  std::string conn;
};

struct room_detail {
  std::string id;
  std::vector<room_member> members;
  uint64_t last_seq = 0;
  uint64_t messages = 0;
  double rate = 0;
  uint64_t mailbox = 0;
};

struct user_info {
  std::string user;
  uint64_t connections = 0;
  std::string node; // the node holding those connections
};

// A live node of a multi-node chat (one row: this node, without Redis).
struct node_row {
  std::string node;
  uint64_t users = 0;
  uint64_t connections = 0;
  uint64_t expires_in_ms = 0; // until its heartbeat runs out
};

struct conn_info {
  std::string id;
  std::string user;
  std::string remote;
  std::vector<std::string> rooms;
  uint64_t queue_bytes = 0;
  double age_s = 0;
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
};

struct actor_info {
  std::string kind;
  std::string id;
  uint64_t mailbox = 0;
  uint64_t handled = 0;
  double rate = 0;
};

} // namespace chat::chatctl
