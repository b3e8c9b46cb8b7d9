// A room's ring of recent messages for fast replay, bounded three ways: chat.room-ring
// messages and chat.room-ring-bytes for this room, chat.memory-max for all rooms together
// (a node-wide byte count). Only committed messages leave it (the ring and the store
// together always hold every message), so the bounds hold up to what is not committed
// yet, which storage.backlog-max/-bytes bound. Older messages come from the store.
#pragma once

#include "actors/fifo.hpp"
#include "actors/room_directory.hpp"
#include "actors/wire.hpp"
#include "config/node_config.hpp"

#include <algorithm>
#include <atomic>

namespace chat {

struct ring_entry {
  chat_message m;
  frame_ptr native; // the frame of encoder 0, reused for replay (may be null)
  uint64_t bytes = 0;
};

class room_ring {
public:
  room_ring(const config::node_config& cfg, std::atomic<int64_t>& node_bytes, room_live& live)
    : max_count_(cfg.room_ring),
      max_bytes_(cfg.room_ring_bytes),
      node_max_(int64_t(std::min<uint64_t>(cfg.memory_max, INT64_MAX))),
      node_bytes_(node_bytes),
      live_(live) {}
  ~room_ring() { clear(); }
  room_ring(const room_ring&) = delete;
  room_ring& operator=(const room_ring&) = delete;

  void push(chat_message&& m, frame_ptr native) {
    uint64_t bytes = m.text.size() + m.user.size() + m.cid.size() + m.room.size()
                     + (native ? native->size() : 0) + sizeof(ring_entry);
    entries_.push_back({std::move(m), std::move(native), bytes});
    account(int64_t(bytes));
  }

  // Drops the oldest entries while a bound is exceeded, never one above `committed`.
  void trim(uint64_t committed) {
    while (!entries_.empty() && entries_.front().m.seq <= committed
           && (entries_.size() > max_count_ || bytes_ > max_bytes_
               || node_bytes_.load(std::memory_order_relaxed) > node_max_)) {
      account(-int64_t(entries_.front().bytes));
      entries_.pop_front();
    }
  }

  void clear() {
    account(-int64_t(bytes_));
    entries_.clear();
  }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const ring_entry& operator[](size_t i) const { return entries_[i]; }
  const ring_entry& front() const { return entries_.front(); }
  const ring_entry& back() const { return entries_.back(); }
  uint64_t first_seq() const { return entries_.empty() ? 0 : entries_.front().m.seq; }

  // Index of the first entry with seq >= `seq` (size() when none).
  size_t lower_bound(uint64_t seq) const {
    size_t lo = 0, hi = entries_.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (entries_[mid].m.seq < seq)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

private:
  void account(int64_t delta) {
    bytes_ = uint64_t(int64_t(bytes_) + delta);
    node_bytes_.fetch_add(delta, std::memory_order_relaxed);
    live_.ring_bytes.store(bytes_, std::memory_order_relaxed);
  }

  fifo<ring_entry> entries_;
  uint64_t bytes_ = 0;
  size_t max_count_;
  uint64_t max_bytes_;
  int64_t node_max_;
  std::atomic<int64_t>& node_bytes_;
  room_live& live_;
};

} // namespace chat
