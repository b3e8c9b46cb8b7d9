// Node-wide presence: which users hold at least one connection on this node. When a
// user's last connection closes, the rooms it was in hear that it went offline.
#pragma once

#include "actors/interfaces.hpp"

#include <caf/actor_system.hpp>

namespace chat {

presence_actor spawn_presence(caf::actor_system& sys);

} // namespace chat
