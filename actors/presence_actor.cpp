// Presence behaviour: connection counts per user, online/offline transitions. With Redis,
// offline is decided cluster-wide: the last local connection's rooms go to Redis, and
// every node (this one too) hears the event and tells its members of those rooms.
#include "actors/presence_actor.hpp"

#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/redis_bridge.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace chat {

namespace {

struct presence_state {
  node_context* ctx = nullptr;
  std::unordered_map<std::string, uint32_t> connections; // online users only
  uint64_t handled = 0;
};

presence_actor::behavior_type presence_impl(presence_actor::stateful_pointer<presence_state> self,
                                            node_context* ctx) {
  self->state.ctx = ctx;
  return {
    [self](p_attach_atom, std::string& user) {
      ++self->state.handled;
      bump(self->state.ctx->counters.presence_handled);
      auto count = ++self->state.connections[user];
      if (count == 1 && self->state.ctx->persistence)
        self->state.ctx->persistence->set_online(user, true);
      if (self->state.ctx->redis)
        self->state.ctx->redis->presence.set_connections(user, count);
    },
    [self](p_detach_atom, std::string& user, std::vector<room_actor>& rooms,
           std::vector<std::string>& names) {
      ++self->state.handled;
      bump(self->state.ctx->counters.presence_handled);
      auto& conns = self->state.connections;
      auto i = conns.find(user);
      if (i == conns.end())
        return;
      auto left = --i->second;
      auto& redis = self->state.ctx->redis;
      if (redis)
        redis->presence.set_connections(user, left, left == 0 ? std::move(names)
                                                              : std::vector<std::string>{});
      if (left > 0)
        return;
      conns.erase(i);
      if (self->state.ctx->persistence)
        self->state.ctx->persistence->set_online(user, false);
      if (!redis) // with Redis, the event comes back from it (p_remote)
        for (auto& r : rooms)
          self->send(r, r_pres_atom::value, user, false);
    },
    [self](p_member_atom, std::string& user, std::string& room, bool joined) {
      // Through this actor, so Redis hears it after the user's first set_connections.
      auto& redis = self->state.ctx->redis;
      if (!redis)
        return;
      if (joined)
        redis->presence.joined(user, room);
      else
        redis->presence.parted(user, room);
    },
    [self](p_remote_atom, std::string& user, bool online, std::vector<std::string>& rooms) {
      ++self->state.handled;
      bump(self->state.ctx->counters.presence_handled);
      for (auto& name : rooms)
        if (auto room = self->state.ctx->rooms.find(name))
          self->send(room->actor, r_pres_atom::value, user, online);
    },
    [self](p_users_atom) {
      presence_stats out;
      out.users = user_counts(self->state.connections.begin(), self->state.connections.end());
      out.handled = self->state.handled;
      out.mailbox = self->mailbox().size();
      return out;
    },
    [self](p_query_atom, std::vector<std::string>& users) {
      std::map<std::string, bool> out;
      for (auto& u : users)
        out[u] = self->state.connections.count(u) > 0;
      return out;
    },
  };
}

} // namespace

presence_actor spawn_presence(node_context& ctx) {
  return ctx.sys.spawn(presence_impl, &ctx);
}

redis::presence::events presence_listener(node_context& ctx) {
  redis::presence::events ev;
  presence_actor to = ctx.presence;
  ev.on_change = [to](const std::string& user, bool online, const std::vector<std::string>& rooms) {
    if (!rooms.empty())
      caf::anon_send(to, p_remote_atom::value, user, online, rooms);
  };
  auto* counters = &ctx.counters;
  ev.on_malformed = [counters] {
    counters->redis_bad_messages.fetch_add(1, std::memory_order_relaxed);
  };
  return ev;
}

} // namespace chat
