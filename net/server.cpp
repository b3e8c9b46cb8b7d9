// Composition of the network front (see server.hpp): limits from the settings, the client
// routes, both listeners, start and drain.
#include "net/server.hpp"

#include "actors/lane_scheduler.hpp"
#include "actors/node_context.hpp"
#include "config/log.hpp"
#include "net/api_route.hpp"
#include "net/http_session.hpp"
#include "net/json_reply.hpp"
#include "net/native_ws_route.hpp"
#include "net/socketio_route.hpp"

#include <thread>

namespace chat::net {

using tcp = asio::ip::tcp;

server::server(node_context& ctx, std::shared_ptr<asio::io_context> first_loop)
  : ctx_(ctx),
    pool_(ctx.cfg.io_threads,
          std::chrono::milliseconds(
            std::max<int64_t>(100, std::min<int64_t>(1000, ctx.cfg.idle_timeout.count() / 4))),
          std::move(first_loop)),
    admin_worker_(std::chrono::milliseconds(1000)),
    gate_(ctx, std::make_shared<admission>(admission_limits{
                 ctx.cfg.max_connections_per_user, ctx.cfg.max_connections_per_ip,
                 ctx.cfg.user_rate_limit, ctx.cfg.user_rate_burst,
                 std::chrono::duration_cast<std::chrono::seconds>(
                   std::max(ctx.cfg.token_ttl, ctx.cfg.refresh_ttl))})) {
  if (auto* lanes = lane_scheduler::of(ctx.sys))
    pool_.host_actors(*lanes);
  pool_.set_batch_delay(ctx.cfg.net_batch_delay);
  http_limits_.header_limit = ctx.cfg.http_header_limit;
  http_limits_.body_limit = ctx.cfg.http_body_limit;
  http_limits_.timeout = ctx.cfg.http_timeout;
  http_limits_.max_requests = ctx.cfg.http_max_requests;
  limits_.max_frame_bytes = ctx.cfg.max_frame_bytes;
  limits_.queue_bytes = ctx.cfg.queue_bytes;
  limits_.idle_timeout = ctx.cfg.idle_timeout;
  limits_.frame_timeout = ctx.cfg.frame_timeout;
  client_routes_.add("/ws", make_native_ws_route(ctx_, registry_, gate_, limits_,
                                                 [this] { return accepting(); }));
  client_routes_.add("/api/", make_api_route(gate_));
  socketio_ = make_socketio_endpoint(ctx_, gate_, [this] { return accepting(); });
  client_routes_.add("/socket.io/", socketio_->route());
  client_routes_.add("/healthz", [](http_exchange& ex) { ex.respond(json_status_ok()); });
  client_listener_ = std::make_unique<listener>(
    "client", *pool_.workers()[0], [this]() -> io_worker& { return pool_.next(); },
    [this](tcp::socket s, io_worker& w) {
      if (tls_)
        serve_tls(std::move(s), w);
      else
        serve(std::move(s), w, client_routes_);
    },
    client_accepts_);
  admin_listener_ = std::make_unique<listener>(
    "admin", admin_worker_, [this]() -> io_worker& { return admin_worker_; },
    [this](tcp::socket s, io_worker& w) { serve(std::move(s), w, admin_routes_); },
    admin_accepts_);
}

server::~server() { stop_threads(); }

void server::stop_threads() { pool_.stop(true); }

// net.max-connections bounds WebSocket sessions and Socket.IO sessions together.
bool server::accepting() const {
  return !stopping_
         && registry_.size() + socketio_->sessions().size() < ctx_.cfg.max_connections;
}

void server::serve(tcp::socket sock, io_worker& worker, const route_table& routes) {
  std::make_shared<http_session>(std::move(sock), worker, routes, http_limits_, http_errors_)
    ->run();
}

void server::serve_tls(tcp::socket sock, io_worker& worker) {
  auto stream = std::make_unique<tls_stream>(std::move(sock), *tls_);
  auto* s = stream.get();
  s->next_layer().expires_after(http_limits_.timeout);
  s->async_handshake(
    asio::ssl::stream_base::server,
    [this, &worker, stream = std::move(stream)](boost::system::error_code ec) mutable {
      if (ec) {
        // A plaintext client, a client that distrusts the certificate, or one too slow.
        client_accepts_.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
        CHAT_LOG_LIMITED(spdlog::level::info, "client listener: TLS handshake failed: {}",
                         ec == boost::beast::error::timeout
                           ? "not completed within net.http-timeout"
                           : ec.message());
        return;
      }
      stream->next_layer().expires_never();
      std::make_shared<http_session>(std::move(stream), worker, client_routes_, http_limits_,
                                     http_errors_)
        ->run();
    });
}

void server::start(admin_handler admin) {
  admin_ = std::move(admin);
  if (!ctx_.cfg.tls_cert.empty())
    tls_ = make_tls_context(ctx_.cfg.tls_cert, ctx_.cfg.tls_key);
  admin_routes_.add("/", [this](http_exchange& ex) {
    ex.respond(admin_ ? admin_(ex.request(), ex.target()) : json_error(404, "not found"));
  });
  ws_endpoint_ = client_listener_->bind(ctx_.cfg.host, ctx_.cfg.port, "net");
  admin_endpoint_ = admin_listener_->bind(ctx_.cfg.admin_host, ctx_.cfg.admin_port, "admin");
  client_listener_->start();
  admin_listener_->start();
  pool_.start();
  admin_worker_.start();
}

void server::stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  client_listener_->stop();
  admin_listener_->stop();
  for (auto& s : sessions())
    s->close(1001, "going away");
  socketio_->shutdown("going away");
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (session_count() + socketio_->websockets() > 0
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pool_.stop(false);
  admin_worker_.stop();
  admin_worker_.join();
  // The network threads are gone: end what did not finish its closing handshake. A shared
  // first loop still runs: its sessions end on its thread.
  auto left = sessions();
  auto sio = socketio_->websocket_sessions();
  left.insert(left.end(), sio.begin(), sio.end());
  io_worker* pinned = nullptr;
  std::vector<std::shared_ptr<ws_session>> on_pinned;
  for (auto& s : left) {
    if (s->worker().pinned()) {
      pinned = &s->worker();
      on_pinned.push_back(s);
    } else {
      s->force_close("going away");
    }
  }
  if (pinned)
    pinned->run_here([&] {
      for (auto& s : on_pinned)
        s->force_close("going away");
    });
}

} // namespace chat::net
