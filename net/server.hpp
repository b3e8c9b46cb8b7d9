// The node's network front: the client listener (WebSocket upgrade on /ws), the admin
// listener, the network threads and the registry of live sessions.
#pragma once

#include "net/io_pool.hpp"
#include "net/ws_session.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace chat {
struct node_context;
}

namespace chat::net {

// Answers one admin HTTP request: (method, target) -> (status, content type, body).
struct http_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};
using admin_handler = std::function<http_reply(const std::string& method, const std::string& target)>;

class server {
public:
  explicit server(node_context& ctx);
  ~server();

  // Binds both listeners and starts the network threads; throws std::runtime_error.
  void start(admin_handler admin);
  asio::ip::tcp::endpoint ws_endpoint() const { return ws_endpoint_; }
  asio::ip::tcp::endpoint admin_endpoint() const { return admin_endpoint_; }

  // Stops accepting, closes every session with "going away", waits up to `grace` for the
  // closing handshakes, then stops the network threads.
  void stop(std::chrono::milliseconds grace);

  size_t session_count() const;
  // The admin thread's context (timers of the admin endpoint run there).
  asio::io_context& admin_context() { return admin_worker_.context(); }
  std::vector<std::shared_ptr<ws_session>> sessions() const;

private:
  class http_exchange;
  void accept(asio::ip::tcp::acceptor& acc, bool admin);
  void upgrade(std::shared_ptr<http_exchange> ex);
  void on_session_closed(ws_session& s);

  node_context& ctx_;
  io_pool pool_;
  io_worker admin_worker_; // admin requests may wait for actors: never on a client thread
  asio::ip::tcp::acceptor ws_acceptor_;
  asio::ip::tcp::acceptor admin_acceptor_;
  asio::ip::tcp::endpoint ws_endpoint_, admin_endpoint_;
  admin_handler admin_;
  session_limits limits_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mtx_;
  std::map<uint64_t, std::weak_ptr<ws_session>> sessions_;
};

// Decodes %XX escapes (and '+' as a space); a malformed escape is kept as it is.
std::string url_decode(std::string_view s);

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string websocket_accept_key(const std::string& client_key);

} // namespace chat::net
