// The chat over Socket.IO, bound to the node (see socketio_route.hpp).
#include "net/socketio_route.hpp"

#include "actors/connection_actor.hpp"
#include "actors/node_context.hpp"
#include "net/client_gate.hpp"
#include "net/upgrade.hpp"

#include <rapidjson/document.h>

#include <caf/send.hpp>

#include <algorithm>
#include <mutex>

namespace chat::net {

namespace {

// The message of a gate refusal ({"error": "..."}), for the CONNECT_ERROR.
std::string refusal_message(const http_reply& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  if (!d.HasParseError() && d.IsObject() && d.HasMember("error") && d["error"].IsString())
    return d["error"].GetString();
  return "refused";
}

// One connected client's link to its connection actor. Called from inside the Engine.IO
// session's entry points, one call at a time; the gate answers a CONNECT later, from the
// store thread or at once, so what the answer touches is shared and locked.
class node_chat_binding final : public sio::chat_binding {
public:
  node_chat_binding(node_context& ctx, client_gate& gate)
    : ctx_(ctx), gate_(gate), link_(std::make_shared<link>()) {}

  void connect(sio::session& s, const rapidjson::Value& auth) override {
    auto who = decide_chat_identity(sio::parse_chat_auth(auth), ctx_.cfg.allow_anonymous);
    if (!who.error.empty()) {
      s.refuse("/", who.error);
      return;
    }
    auto id = ctx_.next_conn_id.fetch_add(1);
    auto anon_user = who.user.empty() ? "guest-" + std::to_string(id) : who.user;
    std::weak_ptr<eio::session> engine = s.engine().shared_from_this();
    auto address = s.engine().client_address();
    // Admission runs where the answer came from: the sio session may be answered from
    // any thread, and admission locks.
    auto inline_post = [](std::function<void()> f) { f(); };
    gate_.settle(address, inline_post, who.token, anon_user,
                 [&ctx = ctx_, &gate = gate_, link = link_, engine, &s, id,
                  address](std::shared_ptr<admitted> admitted, http_reply refusal) {
                   auto e = engine.lock();
                   if (!e)
                     return; // the client left while its token was checked
                   if (!admitted)
                     return s.refuse("/", refusal_message(refusal));
                   // Outside the lock: a full queue may end the session, and closed() locks.
                   s.accept("/"); // CONNECT's answer goes out before the actor's hello
                   std::lock_guard<std::mutex> guard(link->mtx);
                   if (link->closed)
                     return; // dropping `admitted` gives its places back
                   connection_info info;
                   info.id = id;
                   info.session = ctx.cfg.node + "-" + std::to_string(id);
                   info.remote = address;
                   info.out = e;
                   info.enc = &sio::chat_encoder::instance();
                   gate.attach(*admitted, info, e);
                   link->ticket = admitted->ticket;
                   link->conn = spawn_connection(ctx, std::move(info));
                 });
  }

  void commands(std::vector<command>&& batch) override {
    std::lock_guard<std::mutex> guard(link_->mtx);
    if (link_->conn)
      caf::anon_send(link_->conn, c_cmds_atom::value, std::move(batch), uint32_t(0));
  }

  void closed(const std::string& reason) override {
    std::lock_guard<std::mutex> guard(link_->mtx);
    link_->closed = true;
    if (link_->conn)
      caf::anon_send(link_->conn, c_closed_atom::value, reason);
    link_->conn = nullptr;
    if (auto t = std::move(link_->ticket))
      t->release();
  }

private:
  struct link {
    std::mutex mtx;
    bool closed = false;
    connection_actor conn;
    std::shared_ptr<admission::ticket> ticket;
  };

  node_context& ctx_;
  client_gate& gate_;
  std::shared_ptr<link> link_;
};

} // namespace

chat_identity decide_chat_identity(const sio::chat_auth& auth, bool allow_anonymous) {
  chat_identity who;
  if (!auth.error.empty()) {
    who.error = auth.error;
  } else if (!auth.token.empty()) {
    who.token = auth.token; // verified by the client gate, like /ws?token=
  } else if (!allow_anonymous) {
    who.error = "authentication required: a token in the handshake auth ({\"token\":\"...\"})";
  } else if (!auth.user.empty() && !valid_user_name(auth.user)) {
    who.error = "user must be 1..64 characters of A-Z a-z 0-9 _ - .";
  } else {
    who.user = auth.user;
  }
  return who;
}

engineio_options socketio_options(const config::node_config& cfg) {
  engineio_options o;
  o.limits.ping_interval = cfg.sio_ping_interval;
  o.limits.ping_timeout = cfg.sio_ping_timeout;
  o.limits.upgrade_timeout = cfg.sio_upgrade_timeout;
  // A polling body is an HTTP body too: the smaller bound is the one announced.
  o.limits.max_payload = std::min(cfg.sio_max_payload, cfg.http_body_limit);
  o.limits.queue_bytes = cfg.queue_bytes;
  o.limits.max_sessions = cfg.sio_max_sessions;
  o.websocket.max_frame_bytes = o.limits.max_payload;
  o.origins = allowed_origins(cfg.allowed_origins);
  o.websocket.queue_bytes = cfg.queue_bytes;
  o.websocket.frame_timeout = cfg.frame_timeout;
  // Engine.IO's heartbeat watches the client; the WebSocket's own idle timeout stays out
  // of its way.
  o.websocket.idle_timeout =
    std::max(cfg.idle_timeout, 2 * (cfg.sio_ping_interval + cfg.sio_ping_timeout));
  return o;
}

sio::limits socketio_limits(const config::node_config& cfg) {
  sio::limits l;
  l.connect_timeout = cfg.sio_connect_timeout;
  return l;
}

std::unique_ptr<engineio_endpoint> make_socketio_endpoint(node_context& ctx, client_gate& gate,
                                                          std::function<bool()> accepting) {
  auto options = socketio_options(ctx.cfg);
  options.accepting = std::move(accepting);
  options.client_address = [&gate](const http_exchange& ex) { return gate.client_address(ex); };
  options.next_id = [&ctx] { return ctx.next_conn_id.fetch_add(1); };
  auto factory = sio::make_handler_factory(socketio_limits(ctx.cfg), [&ctx, &gate] {
    return std::make_unique<sio::chat_app>(std::make_unique<node_chat_binding>(ctx, gate));
  });
  return std::make_unique<engineio_endpoint>(std::move(options), std::move(factory),
                                             ctx.counters);
}

} // namespace chat::net
