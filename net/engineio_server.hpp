// The Engine.IO v4 endpoint without sockets: checks each HTTP request (transport, sid,
// method, protocol version) and answers Engine.IO's JSON errors, opens sessions (polling
// handshake or WebSocket), keeps the sid -> session registry, and routes requests with a
// sid to their session. The listener glue owns the sockets; see engineio_session.hpp for
// the threading contract.
#pragma once

#include "net/engineio_session.hpp"
#include "net/url_target.hpp"

#include <array>
#include <map>

namespace chat::net::eio {

// What Engine.IO reads from a request's query string, decoded by url_target.
struct query {
  bool ok = true; // false: a parameter given twice (the request is answered "bad request")
  std::string eio, transport, sid;
};
query read_query(const url_target& target);

// One HTTP request to the endpoint, as the glue read it.
struct request {
  std::string_view method; // "GET", "POST", ...
  query params;
  std::string_view content_type;
  std::string_view body;
};

class server {
public:
  // Makes the layer above for a new session (called once per session, before its open).
  using handler_factory = std::function<std::unique_ptr<handler>(session&)>;

  server(limits lim, handler_factory make_handler);
  ~server();

  struct http_result {
    std::optional<http_answer> answer; // empty: a GET that waits
    // The session of a waiting GET: after `wake`, the glue answers with
    // pending->take_poll(), or calls pending->poll_aborted() when the client went away.
    std::shared_ptr<session> pending;
  };
  // A plain HTTP request (not a WebSocket upgrade). `wake` as in session::get. A session
  // this request opens gets its ticker from `make_ticker` (none when empty) and keeps
  // `client_address` (the client's address, trusted proxies applied).
  http_result handle_http(const request& req, std::function<void()> wake, clock::time_point now,
                          const ticker_factory& make_ticker = {},
                          std::string_view client_address = {});

  // A WebSocket upgrade request: an error to answer instead of upgrading, or none.
  std::optional<http_answer> check_websocket(const query& q) const;
  // After the 101 answer: the session the WebSocket now carries (a new one, or the probe
  // of an upgrade), or null when it is no longer possible (close the WebSocket). The glue
  // then passes each message to session->ws_message and the end to session->ws_closed.
  std::shared_ptr<session> attach_websocket(const query& q, std::shared_ptr<ws_link> link,
                                            clock::time_point now,
                                            const ticker_factory& make_ticker = {},
                                            std::string_view client_address = {});

  std::shared_ptr<session> find(const std::string& sid) const;
  size_t size() const;
  std::vector<std::shared_ptr<session>> sessions() const;
  // Ends every session (node shutdown).
  void shutdown(const std::string& reason);
  const limits& bounds() const { return lim_; }

  // Counters for the node's metrics.
  uint64_t opened() const;
  uint64_t closed(close_cause c) const;

private:
  // The checks common to both kinds of request; an error answer or none.
  std::optional<http_answer> verify(const query& p, bool websocket, std::string_view method) const;
  std::shared_ptr<session> create(clock::time_point now, const ticker_factory& make_ticker,
                                  std::string_view client_address);

  // Shared with the sessions' unregister callbacks, which may outlive the server.
  struct registry {
    std::mutex mtx;
    std::map<std::string, std::shared_ptr<session>> sessions;
    uint64_t opened = 0;
    std::array<uint64_t, close_causes> closed{};
  };

  const limits lim_;
  handler_factory make_handler_;
  std::shared_ptr<registry> reg_ = std::make_shared<registry>();
};

} // namespace chat::net::eio
