// Room lookup, on-demand spawning and removal under one mutex (joins and room stops only,
// never per message).
#include "actors/room_directory.hpp"

#include <caf/send.hpp>

namespace chat {

room_actor room_directory::get_or_spawn(const std::string& name) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = rooms_.find(name);
  if (i == rooms_.end()) {
    if (rooms_.size() >= max_ && !evict_one())
      return {};
    auto live = std::make_shared<room_live>(name);
    i = rooms_.emplace(name, room_entry{spawn_(name, live), live}).first;
  }
  i->second.live->joins_pending.fetch_add(1, std::memory_order_relaxed);
  return i->second.actor;
}

void room_directory::join_arrived(room_live& live) {
  auto n = live.joins_pending.load(std::memory_order_relaxed);
  while (n > 0 && !live.joins_pending.compare_exchange_weak(n, n - 1, std::memory_order_relaxed))
    ;
}

bool room_directory::evict_one() {
  for (auto e = evictable_.begin(); e != evictable_.end();) {
    auto i = rooms_.find(*e);
    e = evictable_.erase(e);
    if (i == rooms_.end() || i->second.live->joins_pending.load(std::memory_order_relaxed) != 0)
      continue;
    // Out of the directory, no join on its way: nothing can reach it any more but this.
    caf::anon_send(i->second.actor, r_stop_atom::value);
    rooms_.erase(i);
    return true;
  }
  return false;
}

void room_directory::set_evictable(const std::string& name, const room_live* live,
                                   bool evictable) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = rooms_.find(name);
  if (i == rooms_.end() || i->second.live.get() != live)
    return;
  if (evictable)
    evictable_.insert(name);
  else
    evictable_.erase(name);
}

bool room_directory::try_remove(const std::string& name, const room_live* live) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = rooms_.find(name);
  if (i == rooms_.end() || i->second.live.get() != live
      || live->joins_pending.load(std::memory_order_relaxed) != 0)
    return false;
  rooms_.erase(i);
  evictable_.erase(name);
  return true;
}

std::vector<room_entry> room_directory::snapshot() const {
  std::lock_guard<std::mutex> guard(mtx_);
  std::vector<room_entry> out;
  out.reserve(rooms_.size());
  for (auto& [name, e] : rooms_)
    out.push_back(e);
  return out;
}

std::optional<room_entry> room_directory::find(const std::string& name) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = rooms_.find(name);
  if (i == rooms_.end())
    return std::nullopt;
  return i->second;
}

size_t room_directory::size() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return rooms_.size();
}

std::vector<room_actor> room_directory::actors() const {
  std::lock_guard<std::mutex> guard(mtx_);
  std::vector<room_actor> out;
  out.reserve(rooms_.size());
  for (auto& [name, e] : rooms_)
    out.push_back(e.actor);
  return out;
}

void room_directory::mark_active(const room_live_ptr& live) {
  std::lock_guard<std::mutex> guard(active_mtx_);
  active_.push_back(live);
}

std::vector<room_live_ptr> room_directory::take_active() {
  std::vector<room_live_ptr> out;
  {
    std::lock_guard<std::mutex> guard(active_mtx_);
    out.swap(active_);
  }
  for (auto& r : out)
    r->listed.store(false, std::memory_order_relaxed);
  return out;
}

} // namespace chat
