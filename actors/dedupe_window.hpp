// Remembers the seq of the last N (user, cid) pairs of a room, so a repeated send is acked
// with its original seq instead of being delivered twice. Oldest entries are evicted first.
// An ordered map, not a hash map: every room grows at the same pace under uniform load,
// and hash tables rehashing in lock-step stalled the node (measured: latency spikes at
// 6, 12 and 24 s into a run, the libstdc++ rehash points). Each key is stored once, and a
// lookup builds no key: the comparator also takes (user, cid) views.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

namespace chat {

class dedupe_window {
public:
  explicit dedupe_window(size_t capacity) : capacity_(capacity) {}

  // The seq stored for (user, cid), 0 when unknown.
  uint64_t find(std::string_view user, std::string_view cid) const {
    auto i = seqs_.find(key_view{user, cid});
    return i == seqs_.end() ? 0 : i->second;
  }

  void insert(const std::string& user, const std::string& cid, uint64_t seq) {
    auto [it, fresh] = seqs_.emplace(key{user, cid}, seq);
    if (!fresh)
      return;
    order_.push_back(it);
    while (order_.size() > capacity_) {
      seqs_.erase(order_.front());
      order_.pop_front();
    }
  }

  size_t size() const { return seqs_.size(); }

private:
  struct key {
    std::string user, cid;
  };
  struct key_view {
    std::string_view user, cid;
  };
  struct key_less {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      int c = std::string_view(a.user).compare(std::string_view(b.user));
      return c != 0 ? c < 0 : std::string_view(a.cid) < std::string_view(b.cid);
    }
  };
  using map_type = std::map<key, uint64_t, key_less>;

  size_t capacity_;
  map_type seqs_;
  std::deque<map_type::iterator> order_;
};

} // namespace chat
