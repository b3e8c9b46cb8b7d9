// Presence behaviour: connection counts per user, online/offline transitions.
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
    [self](p_detach_atom, std::string& user, std::vector<room_actor>& rooms) {
      ++self->state.handled;
      bump(self->state.ctx->counters.presence_handled);
      auto& conns = self->state.connections;
      auto i = conns.find(user);
      if (i == conns.end())
        return;
      auto left = --i->second;
      if (self->state.ctx->redis)
        self->state.ctx->redis->presence.set_connections(user, left);
      if (left > 0)
        return;
      conns.erase(i);
      if (self->state.ctx->persistence)
        self->state.ctx->persistence->set_online(user, false);
      for (auto& r : rooms)
        self->send(r, r_pres_atom::value, user, false);
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

} // namespace chat
