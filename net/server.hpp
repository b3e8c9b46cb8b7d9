// The node's network front, composed the way Beast's chat-multi example is: a client
// listener and an admin listener (listener), HTTP connections (http_session) dispatched by
// path (route_table), the WebSocket hand-over (native_ws_route, upgrade) and the registry
// of live sessions (session_registry), on the network threads (io_pool); Socket.IO at
// /socket.io/ (socketio_route).
#pragma once

#include "net/admission.hpp"
#include "net/boundary_counters.hpp"
#include "net/client_gate.hpp"
#include "net/engineio_route.hpp"
#include "net/http_types.hpp"
#include "net/io_pool.hpp"
#include "net/listener.hpp"
#include "net/route_table.hpp"
#include "net/session_registry.hpp"
#include "net/tls_context.hpp"
#include "net/upgrade.hpp"
#include "net/url_target.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace chat {
struct node_context;
}

namespace chat::net {

// Answers one admin request, on the admin thread (it may wait for actors).
using admin_handler = std::function<http_reply(const http_request&, const url_target&)>;

class server {
public:
  // `first_loop`, when given, is the io_context of the first network thread, shared with
  // what must keep running after the network stops (the Redis client, so that it runs on
  // the thread of the actors): that thread then runs until stop_threads().
  explicit server(node_context& ctx, std::shared_ptr<asio::io_context> first_loop = nullptr);
  ~server();

  // The client listener's routes: `/ws`, `/api/`, `/socket.io/` and `/healthz` are there;
  // add others before start().
  route_table& client_routes() { return client_routes_; }
  // Identity and admission on the client listener (tokens: gate().set_accounts before start).
  client_gate& gate() { return gate_; }

  // Loads the TLS certificate and key when net.tls-cert is set (the client listener then
  // speaks only TLS; the admin listener stays plaintext), binds both listeners and starts
  // the network threads; throws std::runtime_error with one line.
  void start(admin_handler admin);
  asio::ip::tcp::endpoint ws_endpoint() const { return ws_endpoint_; }
  asio::ip::tcp::endpoint admin_endpoint() const { return admin_endpoint_; }

  // Stops accepting, closes every session with "going away", waits up to `grace` for the
  // closing handshakes, then stops the network threads (but the first loop's, when shared).
  void stop(std::chrono::milliseconds grace);
  // Stops the first loop's thread too (also done by the destructor).
  void stop_threads();

  size_t session_count() const { return registry_.size(); }
  // The Socket.IO endpoint (its sessions and counters).
  const engineio_endpoint& socketio() const { return *socketio_; }
  std::vector<std::shared_ptr<ws_session>> sessions() const { return registry_.snapshot(); }
  // The admin thread's context (timers of the admin endpoint run there).
  asio::io_context& admin_context() { return admin_worker_.context(); }

  const listener_counters& client_accepts() const { return client_accepts_; }
  const listener_counters& admin_accepts() const { return admin_accepts_; }
  const http_counters& http_errors() const { return http_errors_; }

private:
  bool accepting() const;
  void serve(asio::ip::tcp::socket sock, io_worker& worker, const route_table& routes);
  // The TLS handshake within net.http-timeout, then HTTP over it; failures are counted.
  void serve_tls(asio::ip::tcp::socket sock, io_worker& worker);

  node_context& ctx_;
  io_pool pool_;
  io_worker admin_worker_; // admin requests may wait for actors: never on a client thread
  http_limits http_limits_;
  session_limits limits_;
  session_registry registry_;
  client_gate gate_;
  route_table client_routes_, admin_routes_;
  listener_counters client_accepts_, admin_accepts_;
  http_counters http_errors_;
  admin_handler admin_;
  std::unique_ptr<asio::ssl::context> tls_; // set when the client listener speaks TLS
  std::unique_ptr<engineio_endpoint> socketio_; // before the network threads stop: drained
  std::unique_ptr<listener> client_listener_, admin_listener_;
  asio::ip::tcp::endpoint ws_endpoint_, admin_endpoint_;
  std::atomic<bool> stopping_{false};
};

} // namespace chat::net
