// Names -> room actors of this node. A connection looks a room up once, on join, and caches
// the handle; lookups are synchronous so a send right after a join keeps its order.
#pragma once

#include "actors/interfaces.hpp"

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace chat {

class room_directory {
public:
  using spawner = std::function<room_actor(const std::string&)>;

  room_directory(spawner spawn, size_t max_rooms) : spawn_(std::move(spawn)), max_(max_rooms) {}

  // The room's actor, spawned on first use; a null handle when the room limit is reached.
  room_actor get_or_spawn(const std::string& name);
  std::vector<std::pair<std::string, room_actor>> snapshot() const;
  size_t size() const;

private:
  spawner spawn_;
  size_t max_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, room_actor> rooms_;
};

} // namespace chat
