// Node-wide presence: which users hold at least one connection on this node. When a
// user's last connection closes, the rooms it was in hear that it went offline — with
// Redis, only once no node holds the user, and on every node (events from Redis).
#pragma once

#include "actors/interfaces.hpp"
#include "net/redis/presence.hpp"

namespace chat {

struct node_context;

presence_actor spawn_presence(node_context& ctx);
// What Redis presence events do on this node: rooms named in an event tell their members
// (through the presence actor); malformed events are counted.
redis::presence::events presence_listener(node_context& ctx);

} // namespace chat
