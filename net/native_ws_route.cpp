// /ws: upgrade decision, 101 answer, session start (see native_ws_route.hpp).
#include "net/native_ws_route.hpp"

#include "actors/connection_actor.hpp"
#include "actors/node_context.hpp"
#include "config/log.hpp"
#include "net/http_session.hpp"
#include "net/native_codec.hpp"
#include "net/upgrade.hpp"

#include <boost/asio/write.hpp>

namespace chat::net {

namespace {

void start_session(node_context& ctx, session_registry& registry, const session_limits& limits,
                   taken_connection& conn, uint64_t id, const std::string& user,
                   bool ack_persisted) {
  auto session = std::make_shared<ws_session>(
    std::move(conn.socket), conn.worker, limits, id, ctx.counters,
    [&registry](ws_session& s, const std::string&) { registry.remove(s.id()); });
  session->set_user(user);
  ctx.counters.connections_total.fetch_add(1, std::memory_order_relaxed);
  registry.add(session);
  connection_info info;
  info.id = id;
  info.user = user;
  info.session = ctx.cfg.node + "-" + std::to_string(id);
  info.remote = session->remote();
  info.ack_persisted = ack_persisted;
  info.out = session;
  info.enc = &native_encoder::instance();
  session->start(spawn_connection(ctx, std::move(info)), std::move(conn.leftover));
}

} // namespace

route_handler make_native_ws_route(node_context& ctx, session_registry& registry,
                                   session_limits limits, std::function<bool()> accepting) {
  return [&ctx, &registry, limits, accepting = std::move(accepting)](http_exchange& ex) {
    native_ws_policy policy;
    policy.allow_anonymous = ctx.cfg.allow_anonymous;
    policy.accepting = accepting();
    auto d = decide_native_ws(ex.request(), ex.target(), policy);
    if (!d.upgrade.accepted) {
      ex.respond(std::move(d.upgrade.refusal));
      return;
    }
    auto id = ctx.next_conn_id.fetch_add(1);
    auto user = d.user.empty() ? "guest-" + std::to_string(id) : d.user;
    auto conn = std::make_shared<taken_connection>(ex.take_over());
    auto answer = std::make_shared<std::string>(std::move(d.upgrade.response));
    asio::async_write(conn->socket, asio::buffer(*answer),
                      [&ctx, &registry, limits, conn, answer, id, user,
                       ack = d.ack_persisted](boost::system::error_code ec, size_t) {
                        if (ec) {
                          CHAT_LOG_LIMITED(spdlog::level::info,
                                           "ws: upgrade answer not delivered: {}", ec.message());
                          return;
                        }
                        start_session(ctx, registry, limits, *conn, id, user, ack);
                      });
  };
}

} // namespace chat::net
