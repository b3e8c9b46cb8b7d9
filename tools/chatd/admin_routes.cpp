// Admin HTTP routes: liveness, readiness, Prometheus metrics and the JSON views of
// docs/ADMIN.md used by chatctl, plus closing connections and kicking users. Browsers are
// kept out (net/origin_policy): reads under /admin/ refuse other origins, and state changes
// are POSTs with a JSON content type from no other origin.
#include "tools/chatd/admin_routes.hpp"

#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "net/auth/username.hpp"
#include "actors/redis_bridge.hpp"
#include "net/json_reply.hpp"
#include "net/origin_policy.hpp"
#include "actors/store_readers.hpp"
#include "tools/chatd/admin_snapshot.hpp"
#include "tools/chatd/metrics.hpp"

#include <sodium.h>

#include <future>
#include <initializer_list>
#include <unistd.h>

namespace chat::tools {

namespace {

using json = net::json_writer;

template <class Body>
net::http_reply json_reply(int status, Body&& body) {
  return net::json_object_reply(status, std::forward<Body>(body));
}

net::http_reply error_reply(int status, const std::string& message) {
  return net::json_error(status, message);
}

void key_u(json& w, const char* k, uint64_t v) {
  w.Key(k);
  w.Uint64(v);
}

void key_d(json& w, const char* k, double v) {
  w.Key(k);
  w.Double(v);
}

void key_s(json& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v);
}

void room_fields(json& w, const room_stats& r) {
  key_u(w, "last_seq", r.last_seq);
  key_u(w, "messages", r.messages);
  key_d(w, "rate", r.rate);
  key_u(w, "mailbox", r.mailbox);
}

// The store takes writes and answers reads (flags kept by the writers and the readers'
// probe: no store call here).
bool store_ready(const node_context& ctx) {
  return !ctx.persistence
         || (ctx.persistence->healthy() && (!ctx.readers || ctx.readers->healthy()));
}

net::http_reply node_view(admin_snapshot& snap) {
  auto presence = snap.presence();
  auto t = snap.totals(presence);
  auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                              - snap.ctx.started).count();
  return json_reply(200, [&](json& w) {
    key_s(w, "node", snap.ctx.cfg.node);
    key_d(w, "uptime_s", uptime);
    key_u(w, "connections", t.connections);
    key_u(w, "rooms", t.rooms);
    key_u(w, "online_users", t.online_users);
    key_u(w, "actors", t.actors);
    key_u(w, "messages", t.messages);
    key_u(w, "deliveries", t.deliveries);
    key_u(w, "frames_in", t.frames_in);
    key_u(w, "frames_out", t.frames_out);
    key_u(w, "queue_bytes", t.queue_bytes);
    w.Key("rates");
    w.StartObject();
    key_d(w, "messages_per_s", t.messages_rate);
    key_d(w, "deliveries_per_s", t.deliveries_rate);
    w.EndObject();
    w.Key("store");
    w.StartObject();
    key_s(w, "backend", snap.ctx.cfg.backend);
    auto ps = snap.ctx.persistence ? snap.ctx.persistence->stats() : pool_stats{};
    key_u(w, "backlog", ps.backlog);
    key_u(w, "stored", ps.stored);
    key_u(w, "batches", ps.batches);
    key_u(w, "failures", ps.failures);
    w.Key("reachable");
    w.Bool(store_ready(snap.ctx));
    w.EndObject();
  });
}

net::http_reply rooms_view(admin_snapshot& snap) {
  auto rooms = snap.rooms();
  return json_reply(200, [&](json& w) {
    w.Key("rooms");
    w.StartArray();
    for (auto& r : rooms) {
      w.StartObject();
      key_s(w, "id", r.room);
      key_u(w, "members", r.members);
      room_fields(w, r);
      w.EndObject();
    }
    w.EndArray();
  });
}

net::http_reply room_view(admin_snapshot& snap, const std::string& id) {
  auto r = snap.room(id);
  if (!r)
    return error_reply(404, "no room '" + id + "'");
  return json_reply(200, [&](json& w) {
    key_s(w, "id", r->room);
    w.Key("members");
    w.StartArray();
    for (auto& m : r->member_list) {
      w.StartObject();
      key_s(w, "user", m.user);
      key_u(w, "conn", m.conn);
      w.EndObject();
    }
    w.EndArray();
    room_fields(w, *r);
  });
}

net::http_reply users_view(admin_snapshot& snap) {
  auto p = snap.presence();
  return json_reply(200, [&](json& w) {
    w.Key("users");
    w.StartArray();
    for (auto& [user, conns] : p.users) {
      w.StartObject();
      key_s(w, "user", user);
      key_u(w, "connections", conns);
      key_s(w, "node", snap.ctx.cfg.node);
      w.EndObject();
    }
    w.EndArray();
  });
}

net::http_reply connections_view(admin_snapshot& snap) {
  auto conns = snap.connections();
  return json_reply(200, [&](json& w) {
    w.Key("connections");
    w.StartArray();
    for (auto& c : conns) {
      w.StartObject();
      key_u(w, "id", c.id);
      key_s(w, "user", c.user);
      key_s(w, "node", snap.ctx.cfg.node);
      key_s(w, "remote", c.remote);
      w.Key("rooms");
      w.StartArray();
      for (auto& r : c.stats.rooms)
        w.String(r);
      w.EndArray();
      key_u(w, "queue_bytes", c.queue_bytes);
      key_d(w, "age_s", c.age_s);
      key_u(w, "frames_in", c.frames_in);
      key_u(w, "frames_out", c.frames_out);
      w.EndObject();
    }
    w.EndArray();
  });
}

net::http_reply actors_view(admin_snapshot& snap) {
  auto rooms = snap.rooms();
  auto conns = snap.connections();
  auto p = snap.presence();
  auto actor = [](json& w, const char* kind, const std::string& id, uint64_t mailbox,
                  uint64_t handled, double rate) {
    w.StartObject();
    key_s(w, "kind", kind);
    key_s(w, "id", id);
    key_u(w, "mailbox", mailbox);
    key_u(w, "handled", handled);
    key_d(w, "rate", rate);
    w.EndObject();
  };
  return json_reply(200, [&](json& w) {
    w.Key("actors");
    w.StartArray();
    actor(w, "presence", "presence", p.mailbox, p.handled, snap.rate("presence"));
    for (auto& r : rooms)
      actor(w, "room", r.room, r.mailbox, r.handled, r.handled_rate);
    for (auto& c : conns)
      actor(w, "connection", std::to_string(c.id), c.stats.mailbox, c.stats.handled,
            snap.rate("connection/" + std::to_string(c.id)));
    if (snap.ctx.persistence) {
      auto writers = snap.ctx.persistence->writer_details();
      for (size_t i = 0; i < writers.size(); ++i) {
        auto id = "writer-" + std::to_string(i);
        actor(w, "writer", id, writers[i].pending, writers[i].handled, snap.rate("writer/" + id));
      }
    }
    w.EndArray();
  });
}

net::http_reply close_connection(admin_snapshot& snap, uint64_t id) {
  for (auto& s : snap.srv.sessions())
    if (s->id() == id) {
      s->close(1008, "closed by operator");
      return json_reply(200, [](json& w) {
        w.Key("closed");
        w.Bool(true);
      });
    }
  return error_reply(404, "no connection " + std::to_string(id));
}

net::http_reply kick_user(admin_snapshot& snap, const std::string& user) {
  uint64_t n = 0;
  for (auto& s : snap.srv.sessions())
    if (s->user() == user) {
      s->close(1008, "kicked by operator");
      ++n;
    }
  return json_reply(200, [&](json& w) { key_u(w, "kicked", n); });
}

// Revokes every token of `user` issued until now and closes their connections on this
// node (through the account store, so other nodes' upgrades refuse them too).
net::http_reply revoke_user(admin_snapshot& snap, const std::string& user) {
  auto* accounts = snap.srv.gate().accounts();
  if (!accounts)
    return error_reply(404, "accounts are off on this node (no security.token-key)");
  if (auth::canonical_username(user) != user)
    return error_reply(400, auth::username_rules());
  auto answered = std::make_shared<std::promise<auth::api_outcome>>();
  auto result = answered->get_future();
  accounts->revoke(user, "admin", [answered](auth::api_outcome o) {
    answered->set_value(std::move(o));
  });
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    return error_reply(503, "the account store did not answer within 10 s");
  auto o = result.get();
  if (!o.error.empty())
    return error_reply(o.status, o.error);
  return json_reply(200, [&](json& w) {
    key_s(w, "user", user);
    w.Key("revoked");
    w.Bool(true);
    key_u(w, "closed", o.closed);
  });
}

// admin.token, when set: every /admin/ request must carry it as a bearer token (compared
// in constant time).
bool admin_token_ok(const std::string& token, const net::http_request& req) {
  if (token.empty())
    return true;
  if (req.count(net::http::field::authorization) != 1)
    return false;
  auto v = req[net::http::field::authorization];
  std::string expected = "Bearer " + token;
  return v.size() == expected.size()
         && sodium_memcmp(v.data(), expected.data(), expected.size()) == 0;
}

std::string machine_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0)
    return {};
  return buf;
}

using segments = std::vector<std::string>;

bool is_path(const segments& seg, std::initializer_list<const char*> expected) {
  if (seg.size() != expected.size())
    return false;
  size_t i = 0;
  for (auto* e : expected)
    if (seg[i++] != e)
      return false;
  return true;
}

net::http_reply post_route(admin_snapshot& snap, const net::url_target& t) {
  const auto& seg = t.segments;
  if (seg.size() == 4 && seg[0] == "admin" && seg[1] == "connections" && seg[3] == "close") {
    const auto& id = seg[2];
    if (id.empty() || id.size() > 19 || id.find_first_not_of("0123456789") != std::string::npos)
      return error_reply(404, "no connection '" + id + "'");
    return close_connection(snap, std::stoull(id));
  }
  if (seg.size() == 4 && seg[0] == "admin" && seg[1] == "users" && seg[3] == "kick")
    return kick_user(snap, seg[2]);
  if (seg.size() == 4 && seg[0] == "admin" && seg[1] == "users" && seg[3] == "revoke")
    return revoke_user(snap, seg[2]);
  return error_reply(404, "not found: POST " + t.path);
}

// Liveness and readiness read flags only (no store call, no actor asked): they answer at
// once however many rooms and connections the node holds.
net::http_reply readiness(admin_snapshot& snap) {
  bool store_ok = store_ready(snap.ctx);
  // With redis.uri: Redis reachable (every master, subscriptions in place); a node that
  // cannot sequence must not get new connections.
  bool redis_ok = !snap.ctx.redis || snap.ctx.redis->client.up();
  bool ready = store_ok && redis_ok;
  return json_reply(ready ? 200 : 503, [&](json& w) {
    w.Key("ready");
    w.Bool(ready);
    w.Key("listener");
    w.Bool(true);
    w.Key("store");
    w.Bool(store_ok);
    if (snap.ctx.redis) {
      w.Key("redis");
      w.Bool(redis_ok);
    }
    key_u(w, "connections", snap.srv.session_count());
  });
}

// Live nodes: from Redis's heartbeats when nodes share Redis (waits for its answer at most
// redis.command-timeout: this is the admin thread, not an actor's), else this node alone.
net::http_reply nodes_view(admin_snapshot& snap) {
  std::vector<redis::node_info> nodes;
  if (!snap.ctx.redis) {
    auto p = snap.presence();
    redis::node_info self{snap.ctx.cfg.node, 0, p.users.size(), 0};
    for (auto& [user, conns] : p.users)
      self.connections += conns;
    nodes.push_back(std::move(self));
  } else {
    auto answer = std::make_shared<std::promise<std::pair<bool, std::vector<redis::node_info>>>>();
    auto got = answer->get_future();
    snap.ctx.redis->presence.live_nodes([answer](bool ok, std::vector<redis::node_info> n) {
      answer->set_value({ok, std::move(n)});
    });
    if (got.wait_for(snap.ctx.cfg.redis_command_timeout) != std::future_status::ready)
      return error_reply(503, "Redis did not answer within redis.command-timeout");
    auto [ok, list] = got.get();
    if (!ok)
      return error_reply(503, "Redis did not answer");
    nodes = std::move(list);
  }
  return json_reply(200, [&](json& w) {
    w.Key("nodes");
    w.StartArray();
    for (auto& n : nodes) {
      w.StartObject();
      key_s(w, "node", n.name);
      key_u(w, "users", n.users);
      key_u(w, "connections", n.connections);
      key_u(w, "expires_in_ms", uint64_t(std::max<int64_t>(n.expires_in_ms, 0)));
      w.EndObject();
    }
    w.EndArray();
  });
}

net::http_reply get_route(admin_snapshot& snap, const net::url_target& t,
                          const net::origin_counters& refused) {
  const auto& seg = t.segments;
  if (is_path(seg, {"healthz"}))
    return net::json_status_ok();
  if (is_path(seg, {"readyz"}))
    return readiness(snap);
  if (is_path(seg, {"metrics"}))
    return {200, "text/plain; version=0.0.4", render_metrics(snap, refused), {}};
  if (is_path(seg, {"admin", "node"}))
    return node_view(snap);
  if (is_path(seg, {"admin", "rooms"}))
    return rooms_view(snap);
  if (seg.size() == 3 && seg[0] == "admin" && seg[1] == "rooms")
    return room_view(snap, seg[2]);
  if (is_path(seg, {"admin", "users"}))
    return users_view(snap);
  if (is_path(seg, {"admin", "nodes"}))
    return nodes_view(snap);
  if (is_path(seg, {"admin", "connections"}))
    return connections_view(snap);
  if (is_path(seg, {"admin", "actors"}))
    return actors_view(snap);
  return error_reply(404, "not found: " + t.path);
}

} // namespace

net::admin_handler make_admin_routes(node_context& ctx, net::server& srv) {
  auto snap = std::make_shared<admin_snapshot>(ctx, srv);
  auto refused = std::make_shared<net::origin_counters>();
  return [snap, refused, host = machine_name()](const net::http_request& req,
                                                const net::url_target& t) -> net::http_reply {
    // The listener's address is known once it is bound, after these routes are made.
    net::origin_policy policy(snap->srv.admin_endpoint(), host);
    auto refuse = [&](net::origin_refusal r) {
      refused->count(r);
      return net::origin_policy::refusal_reply(r);
    };
    if (!t.segments.empty() && t.segments[0] == "admin"
        && !admin_token_ok(snap->ctx.cfg.admin_token, req)) {
      auto reply = error_reply(401, "admin.token required: Authorization: Bearer TOKEN");
      reply.headers.emplace_back("WWW-Authenticate", "Bearer");
      return reply;
    }
    if (req.method() == net::http::verb::post) {
      auto r = policy.check_write(req);
      return r == net::origin_refusal::none ? post_route(*snap, t) : refuse(r);
    }
    if (req.method() != net::http::verb::get) {
      auto reply = error_reply(405, "method not allowed");
      reply.headers.emplace_back("Allow", "GET, POST");
      return reply;
    }
    if (!t.segments.empty() && t.segments[0] == "admin") {
      auto r = policy.check_read(req);
      if (r != net::origin_refusal::none)
        return refuse(r);
    }
    return get_route(*snap, t, *refused);
  };
}

} // namespace chat::tools
