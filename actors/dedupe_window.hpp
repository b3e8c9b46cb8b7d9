// Remembers the seq and a hash of the text of the last N (user, cid) pairs of a room, so a
// repeated send is acked with its original seq instead of being delivered twice, and a
// repeated cid with another text is told apart (a conflict). Oldest entries are evicted
// first. An ordered map, not a hash map: every room grows at the same pace under uniform
// load, and hash tables rehashing in lock-step stalled the node (measured: latency spikes
// at 6, 12 and 24 s into a run, the libstdc++ rehash points). Each key is stored once, and
// a lookup builds no key: the comparator also takes (user, cid) views. The eviction order
// is a ring on a vector that allocates nothing until the first insert.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace chat {

// Hash of a message text for conflict checks; never 0 (0 means "not known").
inline uint64_t text_hash(std::string_view text) {
  auto h = static_cast<uint64_t>(std::hash<std::string_view>{}(text));
  return h == 0 ? 1 : h;
}

class dedupe_window {
public:
  struct entry {
    uint64_t seq = 0;  // 0: unknown cid
    uint64_t text = 0; // text_hash, 0 when not known (loaded from the store without bodies)
  };

  explicit dedupe_window(size_t capacity) : capacity_(capacity) {}

  entry find(std::string_view user, std::string_view cid) const {
    auto i = seqs_.find(key_view{user, cid});
    return i == seqs_.end() ? entry{} : i->second;
  }

  void insert(const std::string& user, const std::string& cid, uint64_t seq, uint64_t text) {
    if (capacity_ == 0)
      return;
    auto [it, fresh] = seqs_.emplace(key{user, cid}, entry{seq, text});
    if (!fresh)
      return;
    if (order_.size() < capacity_) {
      order_.push_back(it);
      return;
    }
    seqs_.erase(order_[oldest_]);
    order_[oldest_] = it;
    oldest_ = (oldest_ + 1) % capacity_;
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
  using map_type = std::map<key, entry, key_less>;

  size_t capacity_;
  map_type seqs_;
  std::vector<map_type::iterator> order_; // insertion order once full: a ring from oldest_
  size_t oldest_ = 0;
};

} // namespace chat
