// The WebSocket upgrade as pure functions of the request (fuzzed, unit-tested): the RFC 6455
// handshake check that builds the 101 answer, and the decision of the native endpoint (/ws)
// on its query. A Socket.IO endpoint reuses the handshake check with its own query rules.
#pragma once

#include "net/http_types.hpp"
#include "net/url_target.hpp"

#include <string>
#include <string_view>

namespace chat::net {

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
std::string websocket_accept_key(std::string_view client_key);

// A request checked as a WebSocket opening handshake (RFC 6455 4.2.1).
struct upgrade_check {
  bool accepted = false;
  std::string response; // accepted: the complete "101 Switching Protocols" answer
  http_reply refusal;   // refused: 405, 426 or 400 with the fields the RFCs ask for
};
upgrade_check check_websocket_upgrade(const http_request& req);

// What the native endpoint needs to know about the node.
struct native_ws_policy {
  bool allow_anonymous = true; // security.allow-anonymous
  bool accepting = true;       // below net.max-connections and not draining
};

// The native endpoint's decision: the handshake, then `?user=NAME&ack=seq|persisted`.
// Refusals: 405, 426, 400 (handshake or query), 401 (anonymous access off), 503 (full).
struct native_ws_decision {
  upgrade_check upgrade;
  std::string user; // "" when not given (or empty): the endpoint names a guest
  bool ack_persisted = false;
};
native_ws_decision decide_native_ws(const http_request& req, const url_target& target,
                                    const native_ws_policy& policy);

// 1..64 characters of A-Z a-z 0-9 _ - .
bool valid_user_name(std::string_view user);

} // namespace chat::net
