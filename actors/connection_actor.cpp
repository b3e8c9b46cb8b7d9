// Connection behaviour: validates each command against this connection's state and
// forwards it to the room with a one-way message (no request/response on the send path).
#include "actors/connection_actor.hpp"

#include "actors/frame_limiter.hpp"
#include "actors/node_context.hpp"
#include "actors/redis_bridge.hpp"
#include "actors/persistence_pool.hpp"
#include "config/log.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <unordered_map>

namespace chat {

namespace {

struct connection_state {
  node_context* ctx = nullptr;
  member_ref me;
  std::string remote;
  bool ack_persisted = false;
  std::unordered_map<std::string, room_actor> rooms; // joined rooms
  uint64_t handled = 0;
  frame_limiter limiter{{}, {}};
  std::shared_ptr<shared_rate> user_rate; // all of the user's connections (null: none)
  bool user_limited = false;              // the user's limit refused since the last report
  std::shared_ptr<token_refresher> refresher;
  int64_t expires_s = 0;                  // the access token's expiry (0: none)
  bool closing = false; // closed (flood, token expired): what still arrives is dropped

  void reply_error(error_code code, const std::string& message, const std::string& rid) {
    ctx->counters.errors[size_t(code)].fetch_add(1, std::memory_order_relaxed);
    me.out->push(me.enc->error(code, message, rid));
  }

  // Counts `frames` refused by the rate limit and answers at most once per second.
  void refused(uint64_t frames, const std::string& rid) {
    ctx->counters.rate_limited_frames.fetch_add(frames, std::memory_order_relaxed);
    uint64_t since_last = 0;
    if (limiter.report_due(since_last)) {
      reply_error(error_code::rate_limited,
                  "rate limit exceeded: " + std::to_string(since_last)
                    + " frame(s) refused since the last rate_limited error"
                    + (user_limited ? " (chat.user-rate-limit: all of this user's connections "
                                      "together)"
                                    : ""),
                  rid);
      user_limited = false;
    }
  }

  void close_as_flood() {
    closing = true;
    ctx->counters.ws_violations[size_t(ws_violation::flood)].fetch_add(1,
                                                                        std::memory_order_relaxed);
    CHAT_LOG_LIMITED(spdlog::level::warn,
                     "connection {} (user {} from {}) closed with 1008: over the rate limit "
                     "for chat.flood-close-after",
                     me.conn, me.user, remote);
    me.out->close(1008, "flooding: over the rate limit for chat.flood-close-after");
  }

  const room_actor* joined(const command& c) {
    auto i = rooms.find(c.room);
    if (i == rooms.end()) {
      reply_error(error_code::not_member, "not a member of room '" + c.room + "'", c.rid);
      return nullptr;
    }
    return &i->second;
  }
};

using conn_pointer = connection_actor::stateful_pointer<connection_state>;

void handle(conn_pointer self, command& c) {
  auto& st = self->state;
  switch (c.kind) {
    case op::invalid:
      st.reply_error(c.err, c.err_message, c.rid);
      return;
    case op::join: {
      if (st.rooms.count(c.room)) {
        st.reply_error(error_code::bad_request, "already joined room '" + c.room + "'", c.rid);
        return;
      }
      if (st.rooms.size() >= st.ctx->cfg.max_rooms_per_conn) {
        st.reply_error(error_code::forbidden, "room limit per connection reached", c.rid);
        return;
      }
      auto room = st.ctx->rooms.get_or_spawn(c.room);
      if (!room) {
        st.ctx->counters.rooms_refused.fetch_add(1, std::memory_order_relaxed);
        st.reply_error(error_code::unavailable, "room limit of this node reached", c.rid);
        return;
      }
      st.rooms.emplace(c.room, room);
      self->send(room, r_join_atom::value,
                 join_request{st.me, self, c.has_seq, c.seq, std::move(c.rid)});
      return;
    }
    case op::leave:
      if (auto room = st.joined(c)) {
        self->send(*room, r_leave_atom::value, st.me, true, std::move(c.rid));
        st.rooms.erase(c.room);
      }
      return;
    case op::send:
      if (auto room = st.joined(c)) {
        if (st.ctx->persistence && st.ctx->persistence->backlog_full()) {
          st.reply_error(error_code::unavailable, "store backlog full, retry later", c.rid);
          return;
        }
        bool persisted = c.ack_given ? c.ack_persisted : st.ack_persisted;
        self->send(*room, r_send_atom::value,
                   send_request{st.me, std::move(c.cid), std::move(c.text), persisted,
                                std::move(c.rid), c.t0_ns});
      }
      return;
    case op::history:
      if (auto room = st.joined(c))
        self->send(*room, r_hist_atom::value,
                   history_request{st.me, c.has_seq ? c.seq : 0, c.limit, std::move(c.rid)});
      return;
    case op::typing:
      if (auto room = st.joined(c))
        self->send(*room, r_typing_atom::value, st.me.conn, st.me.user);
      return;
    case op::read:
      if (auto room = st.joined(c))
        self->send(*room, r_read_atom::value, st.me.conn, st.me.user, c.seq);
      return;
    case op::presence: {
      auto out = st.me.out;
      auto enc = st.me.enc;
      if (st.ctx->redis) {
        // Several nodes: online means a connection on any live node (Redis knows).
        st.ctx->redis->presence.online(
          std::move(c.users),
          [out, enc, rid = std::move(c.rid)](bool ok, std::map<std::string, bool> users) {
            out->push(ok ? enc->presence_reply(users, rid)
                         : enc->error(error_code::unavailable,
                                      "presence is unavailable: Redis did not answer", rid));
          });
        return;
      }
      self->request(st.ctx->presence, std::chrono::seconds(5), p_query_atom::value,
                    std::move(c.users))
        .then([out, enc, rid = std::move(c.rid)](std::map<std::string, bool>& users) {
          out->push(enc->presence_reply(users, rid));
        });
      return;
    }
    case op::ping:
      st.me.out->push(st.me.enc->pong(c.rid));
      return;
    case op::auth: {
      if (!st.refresher) {
        st.reply_error(error_code::bad_request,
                       "this connection has no token to refresh (anonymous)", c.rid);
        return;
      }
      int64_t expires = 0;
      auto why = st.refresher->refresh(c.text, expires);
      if (!why.empty()) {
        st.reply_error(error_code::unauthorized, why, c.rid);
        return;
      }
      st.expires_s = expires;
      st.me.out->push(st.me.enc->authed(expires, c.rid));
      return;
    }
  }
}

// Checks the token's expiry when it is due (again after a refresh moved it).
void arm_expiry(conn_pointer self) {
  auto left = self->state.expires_s * 1000 - now_ms();
  self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(left, 0) + 1),
                     c_expire_atom::value);
}

connection_actor::behavior_type connection_impl(conn_pointer self, node_context* ctx,
                                                connection_info info) {
  auto& st = self->state;
  st.ctx = ctx;
  st.me = member_ref{info.id, info.user, info.out, info.enc};
  st.ack_persisted = info.ack_persisted;
  st.limiter = frame_limiter({ctx->cfg.rate_limit, ctx->cfg.rate_burst, ctx->cfg.flood_close_after},
                             frame_limiter::clock::now());
  st.user_rate = std::move(info.user_rate);
  st.refresher = std::move(info.refresher);
  st.expires_s = info.token_expires_s;
  if (st.expires_s > 0)
    arm_expiry(self);
  st.me.out->push(st.me.enc->hello(info.user, ctx->cfg.node, info.session));
  self->send(ctx->presence, p_attach_atom::value, info.user);
  st.remote = info.remote;
  if (ctx->persistence)
    ctx->persistence->log_access({info.user, ctx->cfg.node, info.remote, "connect", "", now_ms()});
  return {
    [self](c_cmds_atom, std::vector<command>& cmds, uint32_t controls) {
      auto& st = self->state;
      if (st.closing)
        return;
      st.handled += cmds.size();
      auto now = frame_limiter::clock::now();
      st.limiter.refill(now);
      // The user's shared budget for this batch (one atomic operation); frames past it are
      // refused like frames past this connection's own limit.
      uint64_t frames = cmds.size() + uint64_t(controls);
      uint64_t budget = st.user_rate ? st.user_rate->take(frames, now) : frames;
      auto user_allows = [&](const std::string& rid, uint64_t n) {
        uint64_t ok = std::min(budget, n);
        budget -= ok;
        if (ok < n) {
          st.user_limited = true;
          st.limiter.refuse(n - ok);
          st.refused(n - ok, rid);
        }
        return ok;
      };
      if (auto n = st.limiter.take(user_allows({}, controls)))
        st.refused(n, {});
      for (auto& c : cmds) {
        if (user_allows(c.rid, 1) == 0)
          continue;
        if (st.limiter.take())
          handle(self, c);
        else
          st.refused(1, c.rid);
      }
      if (st.limiter.flooding())
        st.close_as_flood();
    },
    [self](c_expire_atom) {
      auto& st = self->state;
      if (st.closing || st.expires_s == 0)
        return;
      if (now_ms() < st.expires_s * 1000) {
        arm_expiry(self); // refreshed in-band meanwhile
        return;
      }
      st.closing = true;
      st.me.out->close(close_token_expired, "token expired");
    },
    [self](c_resume_atom, int64_t expires_s) {
      // Socket.IO connection-state recovery: the client came back with a fresh token.
      auto& st = self->state;
      if (st.closing || st.expires_s == 0 || expires_s <= st.expires_s)
        return;
      st.expires_s = expires_s;
      arm_expiry(self);
    },
    [self](c_gone_atom, std::string& room, caf::actor_addr& which) {
      // The room could not serve this connection (it said so to the client): forget it,
      // unless the client has joined a newer instance since.
      auto i = self->state.rooms.find(room);
      if (i != self->state.rooms.end() && i->second.address() == which)
        self->state.rooms.erase(i);
    },
    [self](c_stats_atom) {
      connection_stats out;
      for (auto& [name, room] : self->state.rooms)
        out.rooms.push_back(name);
      std::sort(out.rooms.begin(), out.rooms.end());
      out.handled = self->state.handled;
      out.mailbox = self->mailbox().size();
      return out;
    },
    [self](c_closed_atom, std::string& reason) {
      auto& st = self->state;
      if (st.ctx->persistence)
        st.ctx->persistence->log_access(
          {st.me.user, st.ctx->cfg.node, st.remote, "disconnect", std::move(reason), now_ms()});
      std::vector<room_actor> rooms;
      std::vector<std::string> names;
      rooms.reserve(st.rooms.size());
      names.reserve(st.rooms.size());
      for (auto& [name, room] : st.rooms) {
        self->send(room, r_leave_atom::value, st.me, false, std::string{});
        rooms.push_back(room);
        names.push_back(name);
      }
      // After the leaves: a room hears that the user left before it went offline.
      self->send(st.ctx->presence, p_detach_atom::value, st.me.user, std::move(rooms),
                 std::move(names));
      st.rooms.clear();
      self->quit();
    },
  };
}

} // namespace

connection_actor spawn_connection(node_context& ctx, connection_info info) {
  return ctx.sys.spawn(connection_impl, &ctx, std::move(info));
}

} // namespace chat
