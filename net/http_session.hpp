// One HTTP connection (Beast chat-multi's http_session): reads requests one after the other
// (keep-alive), within the listener's bounds, hands each to the route that serves its path,
// writes the route's answer, and reads the next — or hands the socket to a WebSocket session
// when a route takes the connection over.
#pragma once

#include "net/boundary_counters.hpp"
#include "net/http_parse.hpp"
#include "net/io_pool.hpp"
#include "net/tls_context.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace chat::net {

class http_session;

// A connection a route took over: its socket (or, on a TLS listener, its TLS stream, and
// then `socket` is not open) and the bytes read past the request.
struct taken_connection {
  asio::ip::tcp::socket socket;
  std::unique_ptr<tls_stream> tls;
  std::string leftover;
  io_worker& worker;
};

// One request being served, as a route handler sees it. Copyable: a handler that answers
// later (long-polling) keeps a copy; request() and target() stay valid until it answers.
class http_exchange {
public:
  http_exchange(std::shared_ptr<http_session> s, uint64_t request_no);

  const http_request& request() const;
  const url_target& target() const;
  io_worker& worker() const;
  std::string remote() const;
  // The TCP peer's address (nullopt when the socket has none any more).
  std::optional<asio::ip::address> peer_address() const;

  // Answers the request (any thread; the first answer counts). The connection then reads
  // its next request, or closes when the client or the bounds say so.
  void respond(http_reply reply) const;
  // Network thread, instead of respond: ends HTTP on this connection and hands it over.
  taken_connection take_over() const;
  // Network thread, for a request answered later (long-polling): calls `gone` once, on the
  // network thread, if the client closes the connection before the answer.
  void watch_close(std::function<void()> gone) const;

private:
  std::shared_ptr<http_session> session_;
  uint64_t request_no_;
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(asio::ip::tcp::socket sock, io_worker& worker, const route_table& routes,
               const http_limits& limits, http_counters& counters);
  // Over a TLS stream whose handshake is done.
  http_session(std::unique_ptr<tls_stream> tls, io_worker& worker, const route_table& routes,
               const http_limits& limits, http_counters& counters);

  // Network thread: starts reading the first request.
  void run();

private:
  friend class http_exchange;

  void read_request();
  void watch_close(uint64_t request_no, std::function<void()> gone);
  void on_read(boost::system::error_code ec);
  void answer(uint64_t request_no, http_reply reply);
  void write(http_reply reply, bool keep_alive);
  void on_write(boost::system::error_code ec, bool keep_alive);
  // The TCP layer (under TLS, or the plain stream).
  boost::beast::tcp_stream& transport() { return tls_ ? tls_->next_layer() : plain_; }
  // Calls `op` with the stream requests are read from and answers written to.
  template <class Op>
  void with_stream(Op&& op) {
    if (tls_)
      op(*tls_);
    else
      op(plain_);
  }

  boost::beast::tcp_stream plain_;   // not open on a TLS connection
  std::unique_ptr<tls_stream> tls_;  // set on a TLS connection until taken over
  io_worker& worker_;
  const route_table& routes_;
  http_limits limits_;
  http_counters& counters_;
  boost::beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  http_request request_;
  url_target target_;
  uint64_t requests_ = 0;   // requests read on this connection; the current one's number
  bool awaiting_ = false;   // the current request waits for its answer
  bool taken_ = false;      // a route took the socket over
  http::response<http::string_body> response_;
};

} // namespace chat::net
