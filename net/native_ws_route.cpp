// /ws: upgrade decision, identity, session start (see native_ws_route.hpp).
#include "net/native_ws_route.hpp"

#include "actors/connection_actor.hpp"
#include "actors/node_context.hpp"
#include "net/client_gate.hpp"
#include "net/http_session.hpp"
#include "net/json_reply.hpp"
#include "net/native_codec.hpp"
#include "net/upgrade.hpp"

namespace chat::net {

namespace {

void start_session(node_context& ctx, session_registry& registry, client_gate& gate,
                   const session_limits& limits, taken_connection conn, uint64_t id,
                   std::shared_ptr<admitted> who, std::string address, std::string answer,
                   bool ack_persisted) {
  auto ticket = who->ticket;
  auto session = std::make_shared<ws_session>(
    std::move(conn.socket), std::move(conn.tls), conn.worker, limits, id, ctx.counters,
    [&registry, ticket](ws_session& s, const std::string&) {
      registry.remove(s.id());
      ticket->release();
    });
  session->set_user(who->user);
  ctx.counters.connections_total.fetch_add(1, std::memory_order_relaxed);
  registry.add(session);
  connection_info info;
  info.id = id;
  info.session = ctx.cfg.node + "-" + std::to_string(id);
  info.remote = session->remote();
  if (address != info.remote.substr(0, info.remote.rfind(':')))
    info.remote = address + " via " + info.remote; // through a trusted proxy
  info.ack_persisted = ack_persisted;
  info.out = session;
  info.enc = &native_encoder::instance();
  gate.attach(*who, info, session);
  // The 101 answer goes out first, in the session's first gathered write.
  session->push(std::make_shared<const std::string>(std::move(answer)));
  session->start(spawn_connection(ctx, std::move(info)), std::move(conn.leftover));
}

} // namespace

route_handler make_native_ws_route(node_context& ctx, session_registry& registry,
                                   client_gate& gate, session_limits limits,
                                   std::function<bool()> accepting) {
  return [&ctx, &registry, &gate, limits, accepting](http_exchange& ex) {
    native_ws_policy policy;
    policy.allow_anonymous = ctx.cfg.allow_anonymous;
    policy.accepting = accepting();
    policy.origins = &gate.origins();
    auto d = decide_native_ws(ex.request(), ex.target(), policy);
    if (!d.upgrade.accepted) {
      ex.respond(std::move(d.upgrade.refusal));
      return;
    }
    auto id = ctx.next_conn_id.fetch_add(1);
    auto anon_user = d.user.empty() ? "guest-" + std::to_string(id) : d.user;
    auto address = gate.client_address(ex);
    gate.settle(ex, d.token, anon_user,
                [&ctx, &registry, &gate, limits, accepting, ex, id, address,
                 answer = std::move(d.upgrade.response),
                 ack = d.ack_persisted](std::shared_ptr<admitted> who, http_reply refusal) {
                  if (!who)
                    return ex.respond(std::move(refusal));
                  if (!accepting()) // the node filled up or began draining meanwhile
                    return ex.respond(json_error(503, "not accepting connections"));
                  start_session(ctx, registry, gate, limits, ex.take_over(), id, std::move(who),
                                address, answer, ack);
                });
  };
}

} // namespace chat::net
