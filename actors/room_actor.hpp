// A chat room on this node: its local members, its seq (through a sequencer), a ring of
// recent messages for fast replay, and the dedupe window of client message ids. A room
// starts from the store (asynchronously: joins and sends wait in order meanwhile), stops
// itself after chat.room-idle without members, and streams catch-up and history pages at
// the pace its members' connections drain.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/room_directory.hpp"

namespace chat {

struct node_context;

room_actor spawn_room(node_context& ctx, const std::string& name, room_live_ptr live);

} // namespace chat
