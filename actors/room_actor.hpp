// A chat room on this node: its local members, its seq (through a sequencer), a ring of
// recent messages for fast replay, and the dedupe window of client message ids.
#pragma once

#include "actors/interfaces.hpp"

namespace chat {

struct node_context;

room_actor spawn_room(node_context& ctx, const std::string& name);

} // namespace chat
