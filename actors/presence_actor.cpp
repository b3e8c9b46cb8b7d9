// Presence behaviour: connection counts per user, online/offline transitions.
#include "actors/presence_actor.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace chat {

namespace {

struct presence_state {
  std::unordered_map<std::string, uint32_t> connections; // online users only
};

presence_actor::behavior_type presence_impl(presence_actor::stateful_pointer<presence_state> self) {
  return {
    [self](p_attach_atom, std::string& user) { ++self->state.connections[user]; },
    [self](p_detach_atom, std::string& user, std::vector<room_actor>& rooms) {
      auto& conns = self->state.connections;
      auto i = conns.find(user);
      if (i == conns.end() || --i->second > 0)
        return;
      conns.erase(i);
      for (auto& r : rooms)
        self->send(r, r_pres_atom::value, user, false);
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

presence_actor spawn_presence(caf::actor_system& sys) {
  return sys.spawn(presence_impl);
}

} // namespace chat
