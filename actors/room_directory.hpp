// Names -> live rooms of this node. A connection looks a room up once, on join, and caches
// the handle; lookups are synchronous so a send right after a join keeps its order.
// A room stops itself when it has been empty for chat.room-idle: it leaves the directory
// only through try_remove, under the directory's lock, and only while no join is on its
// way to it (every lookup counts one until the room handles that join). So a join never
// lands on a stopped room: either the lookup came first and the room stays, or the room
// left first and the lookup spawns a new one, which reloads its state from the store.
// At chat.max-rooms a new room takes the place of an idle one (empty, everything
// committed) at once instead of being refused; only when no room is idle is a join
// refused (`unavailable`).
#pragma once

#include "actors/interfaces.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace chat {

// What a room shares with the directory and the admin endpoint: counters it alone writes
// (relaxed atomics, read without asking the actor) and the joins on their way to it.
struct room_live {
  explicit room_live(std::string n) : name(std::move(n)) {}
  const std::string name;
  std::atomic<uint64_t> members{0}, last_seq{0}, messages{0}, deliveries{0}, acks_seq{0};
  std::atomic<uint64_t> handled{0};
  std::atomic<uint64_t> mailbox{0};     // sampled by the room every 64 messages and while > 0
  std::atomic<uint64_t> ring_bytes{0};
  std::atomic<uint32_t> joins_pending{0};
  std::atomic<bool> listed{false};      // in the directory's active list
  // The admin sampler's own fields (admin thread only): rates between its samples.
  struct sample {
    uint64_t messages = 0, handled = 0;
    std::chrono::steady_clock::time_point at{};
    double messages_rate = 0, handled_rate = 0;
  } sampled;
};

using room_live_ptr = std::shared_ptr<room_live>;

// Increments a counter that only one thread writes (no locked instruction).
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct room_entry {
  room_actor actor;
  room_live_ptr live;
};

class room_directory {
public:
  using spawner = std::function<room_actor(const std::string&, room_live_ptr)>;

  room_directory(spawner spawn, size_t max_rooms) : spawn_(std::move(spawn)), max_(max_rooms) {}

  // The room's actor, spawned on first use; a null handle when the room limit is reached.
  // Counts a join on its way: the caller must send the room exactly one r_join.
  room_actor get_or_spawn(const std::string& name);
  // A room handled a join (saturating: stray joins in tests never wrap the count).
  static void join_arrived(room_live& live);
  // Removes the room if it is still this one and no join is on its way; true when removed.
  bool try_remove(const std::string& name, const room_live* live);
  // The room may be evicted for a new one at the cap (it is empty and idle) / no longer
  // (a join reached it: called before join_arrived).
  void set_evictable(const std::string& name, const room_live* live, bool evictable);

  std::vector<room_entry> snapshot() const;
  std::optional<room_entry> find(const std::string& name) const;
  size_t size() const;
  // Every room still listed (shutdown).
  std::vector<room_actor> actors() const;

  // Rooms that handled messages since the last take_active (the admin sampler's work list:
  // O(active rooms), not O(rooms)). A room lists itself once per sample.
  void mark_active(const room_live_ptr& live);
  std::vector<room_live_ptr> take_active();

private:
  // At the cap: stops one idle room and frees its place (mtx_ held).
  bool evict_one();

  spawner spawn_;
  size_t max_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, room_entry> rooms_;
  std::unordered_set<std::string> evictable_;
  std::mutex active_mtx_;
  std::vector<room_live_ptr> active_;
};

} // namespace chat
