// Construction of the shared node context.
#include "actors/node_context.hpp"

#include "actors/presence_actor.hpp"
#include "actors/room_actor.hpp"

#include <chrono>

namespace chat {

node_context::node_context(caf::actor_system& system, config::node_config settings)
  : sys(system),
    cfg(std::move(settings)),
    rooms([this](const std::string& name,
                 room_live_ptr live) { return spawn_room(*this, name, std::move(live)); },
          cfg.max_rooms),
    presence(spawn_presence(*this)),
    cids(cfg.cid_index) {
}

std::shared_ptr<node_context> make_node_context(caf::actor_system& sys,
                                                const config::node_config& cfg) {
  return std::make_shared<node_context>(sys, cfg);
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace chat
