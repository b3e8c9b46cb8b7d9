// Global presence over Redis: which nodes are alive, which users each holds, and the
// presence events room members on every node hear.
//
// Keys (one hash tag, so one cluster slot and one script can see them all):
//   {presence}:nodes          sorted set: node -> expiry (ms, Redis's clock)
//   {presence}:node:<name>    hash: user -> connections on that node
//   {presence}:rooms:<name>   hash: user -> the rooms it is in on that node (fields)
//   {presence}:events         channel: presence events (message_codec.hpp), one publish
//                             per change, whatever the number of members hearing it
// A user is online while any live node lists them. Events: "+user" when a user comes
// online anywhere, "+user room" at the first join of a room by that user on any live node
// (a node joining a room where another live node already has the user says nothing), and
// "-user rooms..." when the user is held by no live node any more — with the rooms its
// last connection was in (a clean close) or that its dead node listed (reaping). Each node
// refreshes its expiry every node-ttl/3 (the same script call that reports users), and
// every node reaps, once a second, nodes whose expiry passed: their users go offline (an
// event for each user no other live node holds) and their entries are deleted. So a
// killed node's users go offline within node-ttl + 1 s. A node's own hashes also expire
// (3 x node-ttl) in case no node is left to reap them.
//
// The node's own users and their rooms are kept here as well: when Redis lost them
// (restart, flush) or this node was reaped while alive (it stalled past its TTL), the
// next heartbeat notices that the node entry had vanished and sends them all again.
#pragma once

#include "net/redis/client.hpp"
#include "net/redis/presence_replies.hpp"
#include "net/redis/script.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chat::redis {

class presence {
public:
  struct events {
    // A user came online / went offline cluster-wide, or joined a room on some node
    // (online, with that room); `rooms`: the rooms whose members should hear it (io thread).
    std::function<void(const std::string& user, bool online,
                       const std::vector<std::string>& rooms)> on_change;
    // The events subscription is in place — first after start(), again after each
    // reconnect: changes from now on arrive, earlier ones may have been missed; query the
    // users that matter (io thread).
    std::function<void()> on_resync;
    // An event that did not decode was dropped (io thread).
    std::function<void()> on_malformed;
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

  // Any thread: the number of this node's connections of `user` (0: none left; `rooms`:
  // the rooms its last connection was in, told if the user is now offline everywhere).
  void set_connections(const std::string& user, uint32_t count,
                       std::vector<std::string> rooms = {});
  // Any thread: `user`'s first join of `room` on this node (an event, if the user is held
  // here) / its last leave. Call in order with set_connections (one caller).
  void joined(const std::string& user, const std::string& room);
  void parted(const std::string& user, const std::string& room);

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
