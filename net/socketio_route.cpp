// The chat over Socket.IO, bound to the node (see socketio_route.hpp).
#include "net/socketio_route.hpp"

#include "actors/connection_actor.hpp"
#include "actors/node_context.hpp"
#include "config/log.hpp"
#include "net/client_gate.hpp"
#include "net/socketio_recovery.hpp"
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
  node_chat_binding(node_context& ctx, client_gate& gate,
                    std::shared_ptr<recovery_registry> recovery)
    : ctx_(ctx), gate_(gate), recovery_(std::move(recovery)), link_(std::make_shared<link>()) {}

  void connect(sio::session& s, const rapidjson::Value& auth) override {
    auto parsed = sio::parse_chat_auth(auth);
    auto who = decide_chat_identity(parsed, ctx_.cfg.allow_anonymous);
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
                 [this, link = link_, engine, &s, id, address,
                  guest = who.user.empty() && who.token.empty(), pid = std::move(parsed.pid),
                  offset = std::move(parsed.offset)](std::shared_ptr<admitted> admitted,
                                                     http_reply refusal) {
                   auto e = engine.lock();
                   if (!e)
                     return; // the client left while its token was checked
                   if (!admitted)
                     return s.refuse("/", refusal_message(refusal));
                   // A guest (anonymous without a name) is a new user each time: no
                   // socket of its own to recover.
                   if (recovery_ && !pid.empty() && !guest && resume(s, e, *admitted, pid, offset))
                     return;
                   start(s, e, *admitted, id, address);
                 });
  }

  void commands(std::vector<command>&& batch) override {
    std::lock_guard<std::mutex> guard(link_->mtx);
    if (link_->conn)
      caf::anon_send(link_->conn, c_cmds_atom::value, std::move(batch), uint32_t(0));
  }

  void closed(const std::string& reason, bool recoverable) override {
    std::lock_guard<std::mutex> guard(link_->mtx);
    link_->closed = true;
    auto ticket = std::move(link_->ticket);
    if (ticket) // a parked socket holds no place on the node (see socketio_recovery.hpp)
      ticket->release();
    if (auto out = std::move(link_->out)) {
      recovery_->unlive(link_->pid, link_.get());
      if (recoverable && out->detach()) {
        recovery_->park(link_->pid, {link_->user, link_->sid, out, link_->conn, {}});
        link_->conn = nullptr;
        return;
      }
      out->set_on_release(nullptr); // the actor is told below, with the reason
      out->release();
    }
    if (link_->conn)
      caf::anon_send(link_->conn, c_closed_atom::value, reason);
    link_->conn = nullptr;
  }

private:
  struct link {
    std::mutex mtx;
    bool closed = false;
    connection_actor conn;
    std::shared_ptr<admission::ticket> ticket;
    // With connection-state recovery:
    std::shared_ptr<recoverable_outbound> out;
    std::string pid, sid, user;
  };

  // A new connection actor for an admitted CONNECT (with recovery: a new pid).
  void start(sio::session& s, const std::shared_ptr<eio::session>& e, admitted& who, uint64_t id,
             const std::string& address) {
    std::string sid, pid;
    if (recovery_) {
      sid = eio::random_id();
      pid = recovery_registry::new_pid();
    }
    // Outside the lock: a full queue may end the session, and closed() locks.
    s.accept("/", sid, pid); // CONNECT's answer goes out before the actor's hello
    std::lock_guard<std::mutex> guard(link_->mtx);
    if (link_->closed)
      return; // dropping `who` gives its places back
    connection_info info;
    info.id = id;
    info.session = ctx_.cfg.node + "-" + std::to_string(id);
    info.remote = address;
    std::shared_ptr<recoverable_outbound> out;
    if (recovery_) {
      out = std::make_shared<recoverable_outbound>(
        e, recoverable_outbound::bounds{ctx_.cfg.sio_recovery_frames, ctx_.cfg.sio_recovery_bytes});
      info.out = out;
      info.enc = &sio::chat_encoder::with_offsets();
    } else {
      info.out = e;
      info.enc = &sio::chat_encoder::instance();
    }
    gate_.attach(who, info, info.out);
    link_->ticket = who.ticket;
    link_->user = info.user;
    link_->conn = spawn_connection(ctx_, std::move(info));
    if (out) {
      out->set_on_release(release_notice(link_->conn, pid, out.get()));
      link_->out = std::move(out);
      link_->pid = std::move(pid);
      link_->sid = std::move(sid);
      go_live(e);
    }
  }

  // Lets a CONNECT with this socket's pid take it over (link_->mtx held).
  void go_live(const std::shared_ptr<eio::session>& e) {
    std::weak_ptr<link> weak_link = link_;
    std::weak_ptr<eio::session> weak_engine = e;
    recovery_->live(link_->pid, link_->user, link_.get(),
                    [weak_link, weak_engine]() -> std::optional<parked_socket> {
                      auto l = weak_link.lock();
                      if (!l)
                        return std::nullopt;
                      parked_socket p;
                      {
                        std::lock_guard<std::mutex> guard(l->mtx);
                        if (l->closed || !l->out || !l->out->detach())
                          return std::nullopt;
                        p = {l->user, l->sid, std::move(l->out), std::move(l->conn), {}};
                        l->conn = nullptr;
                      }
                      // Its closed() then finds nothing left to end.
                      if (auto old = weak_engine.lock())
                        old->close(1000, "the client came back on a new connection");
                      return p;
                    });
  }

  // A CONNECT with a pid: takes the parked socket back when it is the same user's and its
  // offset is among the frames sent. False: connect as a new socket (the old state is
  // released, unless the pid named another user's socket).
  bool resume(sio::session& s, const std::shared_ptr<eio::session>& e, admitted& who,
              const std::string& pid, const std::string& offset) {
    std::optional<parked_socket> parked(std::in_place);
    switch (recovery_->take(pid, who.user, *parked)) {
      case recovery_registry::lookup::found:
        break;
      case recovery_registry::lookup::unknown:
        recovery_->count(sio_recovery_result::unknown);
        return false;
      case recovery_registry::lookup::other_user:
        CHAT_LOG_LIMITED(spdlog::level::warn,
                         "socket.io recovery refused: user {} presented the pid of another "
                         "user's socket", who.user);
        recovery_->count(sio_recovery_result::user_mismatch);
        return false;
    }
    std::lock_guard<std::mutex> guard(link_->mtx);
    if (link_->closed) { // the new transport is gone already: the state waits on
      recovery_->put_back(pid, std::move(*parked));
      return true;
    }
    auto suffix = offset.empty() ? std::string() : sio::chat_encoder::offset_suffix(offset);
    auto r = parked->out->attach(e, suffix, [&] { s.accept("/", parked->sid, pid); });
    if (r != recoverable_outbound::attach_result::attached) {
      if (r == recoverable_outbound::attach_result::offset_not_found)
        recovery_->count(sio_recovery_result::offset_not_found);
      parked->out->release(); // the old connection leaves its rooms
      return false;
    }
    recovery_->count(sio_recovery_result::recovered);
    gate_.admit().attach(*who.ticket, parked->out); // revocation reaches it again
    caf::anon_send(parked->conn, c_resume_atom::value, who.token_expires_s);
    link_->ticket = who.ticket;
    link_->conn = std::move(parked->conn);
    link_->out = std::move(parked->out);
    link_->pid = pid;
    link_->sid = std::move(parked->sid);
    link_->user = std::move(parked->user);
    go_live(e);
    return true;
  }

  // What a recoverable outbound does when its state ends for good: the connection actor
  // leaves its rooms; a parked socket is forgotten and the cause counted.
  recoverable_outbound::release_fn release_notice(connection_actor conn, std::string pid,
                                                  const recoverable_outbound* out) {
    std::weak_ptr<recovery_registry> registry = recovery_;
    return [conn, registry, pid, out](recoverable_outbound::why w) {
      const char* reason = "socket.io connection state released";
      if (auto r = registry.lock()) {
        if (w == recoverable_outbound::why::overflow) {
          r->count(sio_recovery_result::overflow);
          reason = "socket.io recovery: over sio.recovery-bytes while disconnected";
        } else if (w == recoverable_outbound::why::closed) {
          r->count(sio_recovery_result::closed);
          reason = "closed while disconnected";
        }
        r->forget(pid, out);
      }
      caf::anon_send(conn, c_closed_atom::value, std::string(reason));
    };
  }

  node_context& ctx_;
  client_gate& gate_;
  std::shared_ptr<recovery_registry> recovery_; // null: recovery is off
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
  std::shared_ptr<recovery_registry> recovery;
  if (ctx.cfg.sio_recovery) {
    recovery = std::make_shared<recovery_registry>(ctx.counters, ctx.cfg.sio_recovery_duration,
                                                   ctx.cfg.sio_recovery_max_detached,
                                                   ctx.cfg.max_connections_per_user);
    recovery->start(ctx.sys);
    options.on_shutdown = [recovery] { recovery->shutdown(); };
  }
  auto factory = sio::make_handler_factory(socketio_limits(ctx.cfg), [&ctx, &gate, recovery] {
    return std::make_unique<sio::chat_app>(
      std::make_unique<node_chat_binding>(ctx, gate, recovery));
  });
  return std::make_unique<engineio_endpoint>(std::move(options), std::move(factory),
                                             ctx.counters);
}

} // namespace chat::net
