// Real redis-server processes for tests: a single server on a free port (no persistence,
// its own temporary directory, killed when the test process exits — even by a crash) that
// can be killed and restarted on the same port to simulate losing everything, and a real
// 3-master Redis Cluster created with `redis-cli --cluster create`, whose masters can be
// killed and restarted empty under their cluster identity.
#pragma once

#include "net/redis/resp.hpp"
#include "net/redis/settings.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chat::test {

// One blocking command to 127.0.0.1:port (hiredis); throws on connection errors.
redis::reply redis_command(uint16_t port, const std::vector<std::string>& args);

class redis_server {
public:
  // Starts on a free port, or on `port` when given; `extra` args go to redis-server.
  explicit redis_server(std::vector<std::string> extra = {}, uint16_t port = 0);
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  uint16_t port() const { return port_; }
  std::string uri() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::string& dir() const { return dir_; }

  // SIGKILL and wait: everything in it is gone (no persistence).
  void kill9();
  // Starts again on the same port and waits until it answers PING.
  void restart();
  redis::reply command(const std::vector<std::string>& args) const {
    return redis_command(port_, args);
  }
  std::string log_tail() const;

private:
  bool launch(); // false when the port was taken
  std::vector<std::string> extra_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

class redis_cluster {
public:
  // Three masters on free ports (below 55536: each also listens on port + 10000).
  redis_cluster();
  ~redis_cluster();

  size_t size() const { return nodes_.size(); }
  redis_server& node(size_t i) { return *nodes_[i]; }
  const redis_server& node(size_t i) const { return *nodes_[i]; }
  std::string uri() const; // redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3
  std::string node_id(size_t i) const;
  // The node (index) that owns `slot`.
  size_t owner_of(int slot) const;
  // Moves `slot` (and its keys) to node `to` with IMPORTING/MIGRATING/MIGRATE/SETSLOT NODE,
  // as redis-cli --cluster reshard does, and waits until every node agrees.
  void move_slot(int slot, size_t to);
  // The two halves: mark the slot migrating/importing (keys stay: new keys get ASK), then
  // migrate what is left and hand the slot over.
  void begin_move(int slot, size_t to);
  void finish_move(int slot, size_t to);
  // Every node reports cluster_state:ok and the same owner for each slot.
  bool healthy() const;
  // Starts master `i` again after node(i).kill9(), on its port and empty (no persistence)
  // but with its nodes.conf, so it rejoins as itself owning the same slots; waits until
  // the cluster is healthy and the master accepts writes (a restarted master refuses them
  // for about two seconds).
  void restart(size_t i);

private:
  void wait_healthy(const char* what) const;
  std::vector<std::unique_ptr<redis_server>> nodes_;
};

// Client settings for tests: short timeouts and quick reconnects, so that failures show
// within a second.
redis::settings test_settings(const redis_server& server);
redis::settings test_settings(const redis_cluster& cluster);

// A free TCP port on 127.0.0.1 below `below` whose neighbour port + `plus` is free too.
uint16_t free_port(uint16_t below = 65535, uint16_t plus = 0);

} // namespace chat::test
