// Snapshots for the top view and its rankings of rooms and actors.
#include "top_model.hpp"

#include <algorithm>
#include <exception>

namespace chat::chatctl {

void take_snapshot(admin_api& api, top_state& state) {
  state.attempted = std::chrono::system_clock::now();
  try {
    top_snapshot s;
    s.node = api.node();
    s.rooms = api.rooms();
    s.actors = api.actors();
    s.taken = std::chrono::system_clock::now();
    state.last = std::move(s);
    state.error.clear();
  } catch (const std::exception& e) {
    state.error = e.what();
  }
}

namespace {

template <class T, class Less>
std::vector<T> top_n(std::vector<T> items, std::size_t n, Less less) {
  n = std::min(n, items.size());
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(n), items.end(),
                    less);
  items.resize(n);
  return items;
}

} // namespace

std::vector<room_summary> busiest_rooms(const std::vector<room_summary>& rooms, std::size_t n) {
  return top_n(rooms, n, [](const room_summary& a, const room_summary& b) {
    if (a.rate != b.rate)
      return a.rate > b.rate;
    if (a.messages != b.messages)
      return a.messages > b.messages;
    return a.id < b.id;
  });
}

std::vector<actor_info> busiest_actors(const std::vector<actor_info>& actors, std::size_t n) {
  return top_n(actors, n, [](const actor_info& a, const actor_info& b) {
    if (a.rate != b.rate)
      return a.rate > b.rate;
    if (a.mailbox != b.mailbox)
      return a.mailbox > b.mailbox;
    return a.handled > b.handled;
  });
}

std::vector<actor_info> largest_mailboxes(const std::vector<actor_info>& actors, std::size_t n) {
  std::vector<actor_info> queued;
  for (auto& a : actors)
    if (a.mailbox > 0)
      queued.push_back(a);
  return top_n(std::move(queued), n, [](const actor_info& a, const actor_info& b) {
    if (a.mailbox != b.mailbox)
      return a.mailbox > b.mailbox;
    return a.rate > b.rate;
  });
}

} // namespace chat::chatctl
