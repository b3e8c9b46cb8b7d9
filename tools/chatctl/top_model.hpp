// What `chatctl top` shows, independent of the screen: one snapshot of the node (totals,
// rooms, actors) or the error of the last attempt, and the rankings drawn from it.
#pragma once

#include "admin_api.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace chat::chatctl {

struct top_snapshot {
  node_info node;
  std::vector<room_summary> rooms;
  std::vector<actor_info> actors;
  std::chrono::system_clock::time_point taken;
};

// The latest good snapshot (if any) and the error of the latest attempt (if it failed).
struct top_state {
  std::optional<top_snapshot> last;
  std::string error;
  std::chrono::system_clock::time_point attempted;
};

// Fetches /admin/node, /admin/rooms and /admin/actors into `state`; on failure keeps the
// previous snapshot and records the error.
void take_snapshot(admin_api& api, top_state& state);

// The `n` busiest rooms by rate (then by messages, then by id).
std::vector<room_summary> busiest_rooms(const std::vector<room_summary>& rooms, std::size_t n);
// The `n` busiest actors by rate (then by mailbox).
std::vector<actor_info> busiest_actors(const std::vector<actor_info>& actors, std::size_t n);
// The `n` actors with the largest mailboxes (then by rate); empty mailboxes are left out.
std::vector<actor_info> largest_mailboxes(const std::vector<actor_info>& actors, std::size_t n);

} // namespace chat::chatctl
