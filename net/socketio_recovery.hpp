// Socket.IO connection-state recovery on one node (sio.connection-state-recovery): the
// sockets whose transport was lost without a DISCONNECT, kept by their private id (`pid`,
// 120 random bits from libsodium, sent only to the socket's client in its CONNECT answer)
// for sio.max-disconnection-duration. Each keeps its connection actor (so its room
// memberships) and its recoverable_outbound (the frames that reach it meanwhile). A CONNECT
// with the pid, the same user and a known offset takes it back (socketio_route.cpp); past
// the time, a sweep releases it and the rooms see the member leave. A client often notices
// a dead transport long before the node does (which may wait for the heartbeat): a CONNECT
// naming a socket still connected, of the same user, takes it from its old connection.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/stats.hpp"
#include "net/recoverable_outbound.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace caf {
class actor_system;
}

namespace chat::net {

// A socket waiting for its client.
struct parked_socket {
  std::string user;
  std::string sid; // Socket.IO's id, answered again on recovery
  std::shared_ptr<recoverable_outbound> out;
  connection_actor conn;
  std::chrono::steady_clock::time_point deadline;
};

class recovery_registry : public std::enable_shared_from_this<recovery_registry> {
public:
  using clock = std::chrono::steady_clock;
  recovery_registry(node_counters& counters, std::chrono::milliseconds keep,
                    size_t max_parked = 10000, size_t max_per_user = 100);
  ~recovery_registry();

  // Spawns the actor that sweeps at each parked socket's deadline (after make_shared).
  void start(caf::actor_system& sys);
  // A new private id.
  static std::string new_pid();

  // A connected socket with recovery: `detach` takes it from its connection (detaching
  // its outbound and closing its old transport) when its client comes back on a new one
  // before the node noticed the old one was gone. `owner` tells registrations apart.
  using detacher = std::function<std::optional<parked_socket>()>;
  void live(const std::string& pid, const std::string& user, const void* owner, detacher d);
  void unlive(const std::string& pid, const void* owner);
  // Keeps a detached socket until now + keep (a pid already parked is released first);
  // with max_parked sockets parked already, or max_per_user of its user's (so one user
  // cannot take the node's room for everyone's), releases it at once instead.
  void park(const std::string& pid, parked_socket s);
  // Takes the socket of `pid` for `user`: a parked one, or a live one detached from its
  // old connection. Another user's socket is left as it is.
  enum class lookup { found, unknown, other_user };
  lookup take(const std::string& pid, const std::string& user, parked_socket& out);
  // Parks again what take() returned, unchanged (the new connection closed meanwhile).
  void put_back(const std::string& pid, parked_socket s);
  // Forgets a socket whose outbound released itself (over its bytes, closed).
  void forget(const std::string& pid, const recoverable_outbound* out);
  // Releases the sockets past their deadline.
  void sweep(clock::time_point now);
  // Node shutdown: releases every parked socket and stops the sweeper.
  void shutdown();

  void count(sio_recovery_result r) {
    counters_.sio_recoveries[size_t(r)].fetch_add(1, std::memory_order_relaxed);
  }
  size_t parked() const;

private:
  void release_all(std::vector<parked_socket>& gone, sio_recovery_result why);
  bool user_full(const std::string& user, const std::string& pid) const; // under mtx_

  node_counters& counters_;
  const std::chrono::milliseconds keep_;
  const size_t max_parked_;
  const size_t max_per_user_;
  caf::actor sweeper_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, parked_socket> parked_;
  struct live_socket {
    std::string user;
    const void* owner;
    detacher detach;
  };
  std::unordered_map<std::string, live_socket> live_;
  bool stopped_ = false; // shutdown(): parking releases at once
};

} // namespace chat::net
