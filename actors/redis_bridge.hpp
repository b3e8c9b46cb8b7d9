// The node's way to Redis when redis.uri is set: one client (on the first network thread
// under the lane scheduler, else on its own io thread; pipelined commands, pub/sub), the
// room log (the sequencing script, stream reads) shared by every
// room actor's Redis sequencer, global presence (this node's users and heartbeat, events
// for room members) and token revocations heard from other nodes.
// Without redis.uri the node has none of this.
#pragma once

#include "net/redis/client.hpp"
#include "net/redis/presence.hpp"
#include "net/redis/revocations.hpp"
#include "net/redis/room_log.hpp"

#include <memory>
#include <string>

namespace chat {

struct redis_bridge {
  // `host`: see redis::client.
  redis_bridge(const redis::settings& s, redis::presence::events ev,
               std::shared_ptr<boost::asio::io_context> host = nullptr)
    : client(s, std::move(host)), log(client), presence(client, std::move(ev)), revocations(client) {}
  // The client first, then heartbeats and reaping.
  void start() {
    started = true;
    client.start();
    presence.start();
  }
  // Removes this node's users from Redis (waits up to a second), then stops the client.
  void stop() {
    if (started)
      presence.stop(std::chrono::milliseconds(1000));
    client.stop();
  }
  redis::client client;
  redis::room_log log;
  redis::presence presence;
  redis::revocations revocations;
  bool started = false;
  const std::string& node() const { return client.config().node; }
};

} // namespace chat
