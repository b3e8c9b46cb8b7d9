// The node's way to Redis when redis.uri is set: one client (its own io thread, pipelined
// commands, pub/sub) and the room log (the sequencing script, stream reads), shared by
// every room actor's Redis sequencer. Without redis.uri the node has none of this.
#pragma once

#include "net/redis/client.hpp"
#include "net/redis/room_log.hpp"

#include <memory>
#include <string>

namespace chat {

struct redis_bridge {
  explicit redis_bridge(const redis::settings& s) : client(s), log(client) {}
  redis::client client;
  redis::room_log log;
  const std::string& node() const { return client.config().node; }
};

} // namespace chat
