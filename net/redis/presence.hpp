// Global presence over Redis: which nodes are alive and which users each holds.
//
// Keys (one hash tag, so one cluster slot and one script can see them all):
//   {presence}:nodes          sorted set: node -> expiry (ms, Redis's clock)
//   {presence}:node:<name>    hash: user -> connections on that node
//   {presence}:events         channel: "+user" (online) / "-user" (offline)
// A user is online while any live node lists them. Each node refreshes its expiry every
// node-ttl/3 (the same script call that reports users), and every node reaps, once a
// second, nodes whose expiry passed: their users go offline (an event for each user no
// other live node holds) and their entries are deleted. So a killed node's users go
// offline within node-ttl + 1 s. A node's own hash also expires (3 x node-ttl) in case no
// node is left to reap it.
//
// The node's own users are kept here as well (user -> local connection count): when
// Redis lost them (restart, flush) or this node was reaped while alive (it stalled past
// its TTL), the next heartbeat notices that the node entry had vanished and sends them
// all again.
#pragma once

#include "net/redis/client.hpp"
#include "net/redis/script.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chat::redis {

struct node_info {
  std::string name;
  int64_t expires_in_ms = 0;
  uint64_t users = 0;       // users with at least one connection there
  uint64_t connections = 0;
};

class presence {
public:
  struct events {
    // A user came online / went offline cluster-wide (io thread).
    std::function<void(const std::string& user, bool online)> on_change;
    // The events subscription is in place — first after start(), again after each
    // reconnect: changes from now on arrive, earlier ones may have been missed; query the
    // users that matter (io thread).
    std::function<void()> on_resync;
  };

  presence(client& c, events ev);
  // Detaches from the client's thread; callbacks still queued there see a dead flag.
  ~presence();
  presence(const presence&) = delete;
  presence& operator=(const presence&) = delete;

  // Starts heartbeats and reaping (after clearing what a previous run of this node left).
  void start();
  // Removes this node and its users (offline events for those held nowhere else).
  // Returns once Redis answered or `wait` passed. Not from a client callback.
  void stop(millis wait = millis(2000));

  // Any thread: the number of this node's connections of `user` (0: none left).
  void set_connections(const std::string& user, uint32_t count);

  // Any thread; callbacks on the io thread.
  void live_nodes(std::function<void(bool ok, std::vector<node_info>)> done);
  void online(std::vector<std::string> users,
              std::function<void(bool ok, std::map<std::string, bool>)> done);
  // User -> connections on `node`.
  void node_users(const std::string& node,
                  std::function<void(bool ok, std::map<std::string, uint64_t>)> done);

  static std::string events_channel();

private:
  struct core;
  std::shared_ptr<core> core_;
};

} // namespace chat::redis
