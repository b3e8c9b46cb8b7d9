// Gathers the node's statistics for the admin endpoint: asks room, connection and
// presence actors for their own counters (with timeouts) and samples them once a second
// to turn counters into rates. Runs on the admin thread only.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/persistence_pool.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <optional>

namespace chat {
struct node_context;
namespace net {
class server;
}
} // namespace chat

namespace chat::tools {

struct connection_row {
  uint64_t id = 0;
  std::string user, remote;
  uint64_t queue_bytes = 0;
  double age_s = 0;
  uint64_t frames_in = 0, frames_out = 0;
  connection_stats stats;
};

struct node_totals {
  uint64_t connections = 0, rooms = 0, online_users = 0, actors = 0;
  uint64_t messages = 0, deliveries = 0, acks_seq = 0, frames_in = 0, frames_out = 0;
  uint64_t queue_bytes = 0;
  double messages_rate = 0, deliveries_rate = 0;
  latency_histogram latency;
};

class admin_snapshot {
public:
  admin_snapshot(node_context& ctx, net::server& srv);

  std::vector<room_stats> rooms();
  std::optional<room_stats> room(const std::string& id);
  std::vector<connection_row> connections();
  presence_stats presence();
  node_totals totals(const std::vector<room_stats>& rooms, const presence_stats& p);

  // Rate of a counter per second between the last two samples at least a second apart.
  double rate(const std::string& key) const;
  // Takes a sample of every room and the node totals (called once a second).
  void sample();

  node_context& ctx;
  net::server& srv;

private:
  void record(const std::string& key, double value, std::chrono::steady_clock::time_point now);
  void arm();

  struct sample_pair {
    double value = 0;
    std::chrono::steady_clock::time_point at{};
    double rate = 0;
  };
  std::map<std::string, sample_pair> samples_;
  boost::asio::steady_timer timer_;
};

} // namespace chat::tools
