// One per WebSocket session: identity, joined rooms (with cached room handles), the rate
// limiter and the checks of every client command before it reaches a room.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/shared_rate.hpp"

#include <memory>

namespace chat {

struct node_context;

// In-band token refresh (`{"op":"auth","token":T}`) of a connection that came with a token;
// implemented at the network boundary (signature, subject, revocation).
class token_refresher {
public:
  virtual ~token_refresher() = default;
  // "" with the new expiry (seconds since the epoch), or the reason `token` is refused.
  virtual std::string refresh(const std::string& token, int64_t& expires_s) = 0;
};

// How a connection whose token expired is closed (docs/PROTOCOL.md).
constexpr uint16_t close_token_expired = 4001;

struct connection_info {
  uint64_t id = 0;
  std::string user;
  std::string session;     // session id sent in hello
  std::string remote;      // "ip:port"
  bool ack_persisted = false; // connection default for `send`
  outbound_ptr out;
  const wire_encoder* enc = nullptr;
  int64_t token_expires_s = 0;                // 0: anonymous, never expires
  std::shared_ptr<token_refresher> refresher; // null: anonymous (no in-band refresh)
  std::shared_ptr<shared_rate> user_rate;     // shared by the user's connections (null: none)
};

connection_actor spawn_connection(node_context& ctx, connection_info info);

} // namespace chat
