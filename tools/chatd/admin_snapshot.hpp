// Gathers the node's statistics for the admin endpoint and samples them once a second to
// turn counters into rates. Runs on the admin thread only, which also answers /healthz
// and /readyz: so nothing here may wait long. Rooms are read from the counters they
// publish (no actor asked, whatever their number); the sampler visits only the rooms
// with traffic since the last sample; only the single-room view and the connection list
// ask actors, with short timeouts.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/room_directory.hpp"

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
  node_totals totals(const presence_stats& p);

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
  std::vector<room_live_ptr> sampled_; // rooms with traffic at the last sample
  boost::asio::steady_timer timer_;
};

} // namespace chat::tools
