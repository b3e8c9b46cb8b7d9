// An Engine.IO endpoint on the network boundary (Beast chat-multi's hand-over from the HTTP
// session, for a protocol with two transports): serves one eio::server at a route prefix.
// Long-polling requests are answered through their http_exchange — a GET that must wait
// is answered later from the session's wake-up, on its connection's network thread, and
// ends the session when its client goes away first; the WebSocket transport is an upgrade
// (check_websocket_upgrade, the 101 answer, a ws_session whose messages go to the Engine.IO
// session). Each session has a timer on the thread that opened it (engineio_timer).
// Pages of origins net.allowed-origins does not allow get 403 (polling and the WebSocket);
// allowed other origins get CORS fields; OPTIONS preflights are answered.
#pragma once

#include "net/allowed_origins.hpp"
#include "net/engineio_server.hpp"
#include "net/route_table.hpp"
#include "net/session_registry.hpp"

#include <functional>

namespace chat::net {

struct engineio_options {
  eio::limits limits;
  // The WebSockets of the transport: max_frame_bytes should be limits.max_payload and the
  // idle timeout longer than ping_interval + ping_timeout.
  session_limits websocket;
  allowed_origins origins;
  // Whether a new session may open now (the node's connection bound, draining); may be
  // empty (always).
  std::function<bool()> accepting;
  // The client's address of a request that opens a session (kept by the session for
  // admission); may be empty (the peer address is then not recorded).
  std::function<std::string(const http_exchange&)> client_address;
  // Ids of the WebSocket sessions (logs, the registry).
  std::function<uint64_t()> next_id;
  // Called by shutdown() after the sessions have ended (may be empty).
  std::function<void()> on_shutdown;
};

class engineio_endpoint {
public:
  engineio_endpoint(engineio_options options, eio::server::handler_factory make_handler,
                    node_counters& counters);
  ~engineio_endpoint();
  engineio_endpoint(const engineio_endpoint&) = delete;
  engineio_endpoint& operator=(const engineio_endpoint&) = delete;

  // The handler to add to a route_table; it refers to this endpoint.
  route_handler route();

  const eio::server& sessions() const { return server_; }
  // WebSockets open (transports and upgrade probes).
  size_t websockets() const { return websockets_.size(); }

  // Network threads running: ends every session (pending GETs get a close packet,
  // WebSockets a close frame).
  void shutdown(const std::string& reason);
  // Network threads stopped: finishes the WebSockets that did not close.
  void force_close(const std::string& reason);
  std::vector<std::shared_ptr<ws_session>> websocket_sessions() const {
    return websockets_.snapshot();
  }

private:
  void serve(http_exchange& ex);
  void serve_polling(http_exchange& ex, eio::query q, const std::string& origin);
  void serve_websocket(http_exchange& ex, eio::query q);
  void start_websocket(struct taken_connection& conn, const eio::query& q,
                       const std::string& address);
  bool accepting() const { return !options_.accepting || options_.accepting(); }
  std::string address_of(const http_exchange& ex) const {
    return options_.client_address ? options_.client_address(ex) : std::string();
  }

  engineio_options options_;
  node_counters& counters_;
  eio::server server_;
  session_registry websockets_;
};

// Engine.IO answers as HTTP replies.
http_reply to_reply(eio::http_answer a);

} // namespace chat::net
