// Engine.IO over the HTTP sessions and WebSockets of the network boundary (see
// engineio_route.hpp). Everything here runs on the network thread of the connection it
// serves, except the wake-up of a waiting GET, which only posts to that thread.
#include "net/engineio_route.hpp"

#include "config/log.hpp"
#include "net/engineio_timer.hpp"
#include "net/http_session.hpp"
#include "net/upgrade.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace chat::net {

namespace {

// A GET that waits for data: answered once, by its wake-up or not at all when the client
// left first. Touched only on its connection's network thread.
struct pending_poll : std::enable_shared_from_this<pending_poll> {
  pending_poll(http_exchange exchange, std::string origin)
    : ex(std::move(exchange)), cors_origin(std::move(origin)) {}

  // Any thread (the session's wake-up).
  void wake() {
    asio::post(ex.worker().context(), [self = shared_from_this()] { self->answer(); });
  }
  void answer() {
    if (done || !session)
      return;
    done = true;
    auto reply = to_reply(session->take_poll(eio::clock::now()));
    allowed_origins::add_cors_fields(reply, cors_origin);
    ex.respond(std::move(reply));
    session.reset();
  }
  void client_gone() {
    if (done || !session)
      return;
    done = true;
    session->poll_aborted(eio::clock::now());
    session.reset();
  }

  http_exchange ex;
  std::string cors_origin;
  std::shared_ptr<eio::session> session;
  bool done = false;
};

// A WebSocket's messages and end go to its Engine.IO session (the session's own transport,
// or the probe of an upgrade).
struct websocket_sink final : ws_message_sink {
  void on_ws_message(ws_session& ws, bool binary, std::string_view payload) override {
    if (session)
      session->ws_message(ws, binary, payload, eio::clock::now());
  }
  void on_ws_closed(ws_session& ws, const std::string&) override {
    if (auto s = std::move(session))
      s->ws_closed(ws, eio::clock::now());
  }

  std::shared_ptr<eio::session> session;
};

std::string_view field(const http_request& req, http::field name) {
  auto v = req[name];
  return std::string_view(v.data(), v.size());
}

http_reply full_reply() {
  return to_reply(eio::error_answer(eio::http_error::forbidden, 503));
}

} // namespace

http_reply to_reply(eio::http_answer a) {
  http_reply r;
  r.status = a.status;
  r.content_type = std::move(a.content_type);
  r.body = std::move(a.body);
  return r;
}

engineio_endpoint::engineio_endpoint(engineio_options options,
                                     eio::server::handler_factory make_handler,
                                     node_counters& counters)
  : options_(std::move(options)),
    counters_(counters),
    server_(options_.limits, std::move(make_handler)) {
  if (!options_.next_id)
    options_.next_id = [n = std::make_shared<std::atomic<uint64_t>>(1)] { return n->fetch_add(1); };
}

engineio_endpoint::~engineio_endpoint() = default;

route_handler engineio_endpoint::route() {
  return [this](http_exchange& ex) { serve(ex); };
}

void engineio_endpoint::serve(http_exchange& ex) {
  const auto& req = ex.request();
  if (req.method() == http::verb::options) {
    ex.respond(options_.origins.preflight(req, "GET, POST, OPTIONS"));
    return;
  }
  if (!options_.origins.allows(req)) { // pages of other origins (cross-site WebSocket too)
    ex.respond(allowed_origins::refusal());
    return;
  }
  auto q = eio::read_query(ex.target());
  if (boost::beast::websocket::is_upgrade(req))
    serve_websocket(ex, std::move(q));
  else
    serve_polling(ex, std::move(q), options_.origins.cors_origin(req));
}

void engineio_endpoint::serve_polling(http_exchange& ex, eio::query q, const std::string& origin) {
  const auto& req = ex.request();
  auto respond = [&](http_reply reply) {
    allowed_origins::add_cors_fields(reply, origin);
    ex.respond(std::move(reply));
  };
  if (q.sid.empty() && !accepting()) {
    respond(full_reply());
    return;
  }
  auto method = req.method_string();
  auto address = q.sid.empty() ? address_of(ex) : std::string();
  eio::request r{std::string_view(method.data(), method.size()), std::move(q),
                 field(req, http::field::content_type), req.body()};
  auto poll = std::make_shared<pending_poll>(ex, origin);
  // The wake-up only posts to this thread, so it finds `poll->session` set.
  auto result = server_.handle_http(r, [poll] { poll->wake(); }, eio::clock::now(),
                                    engineio_timers(ex.worker()), address);
  if (result.answer) {
    respond(to_reply(std::move(*result.answer)));
    return;
  }
  poll->session = std::move(result.pending);
  ex.watch_close([poll] { poll->client_gone(); });
}

void engineio_endpoint::serve_websocket(http_exchange& ex, eio::query q) {
  auto upgrade = check_websocket_upgrade(ex.request());
  if (!upgrade.accepted) {
    ex.respond(std::move(upgrade.refusal));
    return;
  }
  if (auto refusal = server_.check_websocket(q)) {
    ex.respond(to_reply(std::move(*refusal)));
    return;
  }
  if (q.sid.empty() && !accepting()) {
    ex.respond(full_reply());
    return;
  }
  auto address = q.sid.empty() ? address_of(ex) : std::string(); // before the take-over
  auto conn = std::make_shared<taken_connection>(ex.take_over());
  auto answer = std::make_shared<std::string>(std::move(upgrade.response));
  auto answered = [this, conn, answer, q = std::move(q), address = std::move(address)](boost::system::error_code ec, size_t) {
    if (ec) {
      CHAT_LOG_LIMITED(spdlog::level::info, "engine.io: upgrade answer not delivered: {}",
                       ec.message());
      return;
    }
    start_websocket(*conn, q, address);
  };
  if (conn->tls)
    asio::async_write(*conn->tls, asio::buffer(*answer), std::move(answered));
  else
    asio::async_write(conn->socket, asio::buffer(*answer), std::move(answered));
}

void engineio_endpoint::start_websocket(taken_connection& conn, const eio::query& q,
                                        const std::string& address) {
  auto sink = std::make_shared<websocket_sink>();
  auto ws = std::make_shared<ws_session>(
    std::move(conn.socket), std::move(conn.tls), conn.worker, options_.websocket, options_.next_id(), counters_,
    [this](ws_session& s, const std::string&) { websockets_.remove(s.id()); });
  websockets_.add(ws);
  // The open packet (or nothing, for a probe) is queued before reading starts.
  sink->session =
    server_.attach_websocket(q, ws, eio::clock::now(), engineio_timers(conn.worker), address);
  bool attached = sink->session != nullptr;
  ws->start(std::move(sink), std::move(conn.leftover));
  if (!attached)
    ws->close(1000, "the session is closed or already upgraded");
}

void engineio_endpoint::shutdown(const std::string& reason) {
  for (auto& ws : websockets_.snapshot())
    ws->close(1001, reason);
  server_.shutdown(reason);
  if (options_.on_shutdown)
    options_.on_shutdown();
}

void engineio_endpoint::force_close(const std::string& reason) {
  for (auto& ws : websockets_.snapshot())
    ws->force_close(reason);
}

} // namespace chat::net
