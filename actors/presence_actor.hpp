// Node-wide presence: which users hold at least one connection on this node. When a
// user's last connection closes, the rooms it was in hear that it went offline.
#pragma once

#include "actors/interfaces.hpp"

namespace chat {

struct node_context;

presence_actor spawn_presence(node_context& ctx);

} // namespace chat
