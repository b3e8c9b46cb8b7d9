// The native protocol's endpoint, `GET /ws` (Beast chat-multi's hand-over from the HTTP
// session to the WebSocket session): decides the upgrade, sends the 101 answer, and starts
// a ws_session with its own connection actor, registered until it finishes.
#pragma once

#include "net/route_table.hpp"
#include "net/session_registry.hpp"

#include <functional>

namespace chat {
struct node_context;
}

namespace chat::net {

// `accepting` says whether the node takes one more session now (limit, draining).
route_handler make_native_ws_route(node_context& ctx, session_registry& registry,
                                   session_limits limits, std::function<bool()> accepting);

} // namespace chat::net
