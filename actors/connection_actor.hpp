// One per WebSocket session: identity, joined rooms (with cached room handles), the rate
// limiter and the checks of every client command before it reaches a room.
#pragma once

#include "actors/interfaces.hpp"

namespace chat {

struct node_context;

struct connection_info {
  uint64_t id = 0;
  std::string user;
  std::string session;     // session id sent in hello
  std::string remote;      // "ip:port"
  bool ack_persisted = false; // connection default for `send`
  outbound_ptr out;
  const wire_encoder* enc = nullptr;
};

connection_actor spawn_connection(node_context& ctx, connection_info info);

} // namespace chat
