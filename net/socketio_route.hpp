// The node's Socket.IO endpoint, `/socket.io/`: an Engine.IO endpoint (engineio_route)
// whose sessions speak Socket.IO (socketio_session) with the chat adapter (socketio_chat),
// bound here to the node: identity from the CONNECT auth payload (tokens and admission
// through the client gate, as on /ws), one connection actor per connected client, bounds
// from the settings, and connection-state recovery when it is on (socketio_recovery.hpp).
#pragma once

#include "net/engineio_route.hpp"
#include "net/socketio_chat.hpp"

#include <memory>

namespace chat {
struct node_context;
namespace config {
struct node_config;
}
} // namespace chat

namespace chat::net {

// Who a CONNECT's auth names under the node's rules: {"user"} with anonymous identity
// (the names /ws?user= accepts; none: a guest name), or {"token"}, which the client gate
// then verifies and admits as /ws?token= (see client_gate.hpp). `error` set: refuse with it.
struct chat_identity {
  std::string user;  // empty with no error and no token: a guest
  std::string token; // to verify
  std::string error;
};
chat_identity decide_chat_identity(const sio::chat_auth& auth, bool allow_anonymous);

// Engine.IO and Socket.IO bounds from the settings.
engineio_options socketio_options(const config::node_config& cfg);
sio::limits socketio_limits(const config::node_config& cfg);

// The chat's Socket.IO endpoint. `accepting` says whether the node takes one more session.
class client_gate;
std::unique_ptr<engineio_endpoint> make_socketio_endpoint(node_context& ctx, client_gate& gate,
                                                          std::function<bool()> accepting);

} // namespace chat::net
