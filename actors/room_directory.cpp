// Room lookup and on-demand spawning under one mutex (joins only, never per message).
#include "actors/room_directory.hpp"

namespace chat {

room_actor room_directory::get_or_spawn(const std::string& name) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = rooms_.find(name);
  if (i != rooms_.end())
    return i->second;
  if (rooms_.size() >= max_)
    return {};
  auto r = spawn_(name);
  rooms_.emplace(name, r);
  return r;
}

std::vector<std::pair<std::string, room_actor>> room_directory::snapshot() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return {rooms_.begin(), rooms_.end()};
}

size_t room_directory::size() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return rooms_.size();
}

} // namespace chat
