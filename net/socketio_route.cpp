// The chat over Socket.IO, bound to the node (see socketio_route.hpp).
#include "net/socketio_route.hpp"

#include "actors/connection_actor.hpp"
#include "actors/node_context.hpp"
#include "net/upgrade.hpp"

#include <caf/send.hpp>

#include <algorithm>

namespace chat::net {

namespace {

// One connected client's link to its connection actor. Called from inside the Engine.IO
// session's entry points, one call at a time.
class node_chat_binding final : public sio::chat_binding {
public:
  explicit node_chat_binding(node_context& ctx) : ctx_(ctx) {}

  void connect(sio::session& s, const rapidjson::Value& auth) override {
    auto who = decide_chat_identity(sio::parse_chat_auth(auth), ctx_.cfg.allow_anonymous);
    if (!who.error.empty()) {
      s.refuse("/", who.error);
      return;
    }
    auto id = ctx_.next_conn_id.fetch_add(1);
    connection_info info;
    info.id = id;
    info.user = who.user.empty() ? "guest-" + std::to_string(id) : who.user;
    info.session = ctx_.cfg.node + "-" + std::to_string(id);
    info.out = s.engine().shared_from_this();
    info.enc = &sio::chat_encoder::instance();
    s.accept("/"); // CONNECT's answer goes out before the actor's hello
    conn_ = spawn_connection(ctx_, std::move(info));
  }

  void commands(std::vector<command>&& batch) override {
    if (conn_)
      caf::anon_send(conn_, c_cmds_atom::value, std::move(batch), uint32_t(0));
  }

  void closed(const std::string& reason) override {
    if (conn_)
      caf::anon_send(conn_, c_closed_atom::value, reason);
    conn_ = nullptr;
  }

private:
  node_context& ctx_;
  connection_actor conn_;
};

} // namespace

chat_identity decide_chat_identity(const sio::chat_auth& auth, bool allow_anonymous) {
  chat_identity who;
  if (!auth.error.empty()) {
    who.error = auth.error;
  } else if (!auth.token.empty()) {
    who.error = "token authentication is not available on this node";
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
  o.cors.allowed_origins = cfg.allowed_origins;
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

std::unique_ptr<engineio_endpoint> make_socketio_endpoint(node_context& ctx,
                                                          std::function<bool()> accepting) {
  auto options = socketio_options(ctx.cfg);
  options.accepting = std::move(accepting);
  options.next_id = [&ctx] { return ctx.next_conn_id.fetch_add(1); };
  auto factory = sio::make_handler_factory(socketio_limits(ctx.cfg), [&ctx] {
    return std::make_unique<sio::chat_app>(std::make_unique<node_chat_binding>(ctx));
  });
  return std::make_unique<engineio_endpoint>(std::move(options), std::move(factory),
                                             ctx.counters);
}

} // namespace chat::net
