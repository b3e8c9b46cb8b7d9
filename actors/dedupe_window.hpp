// Remembers the seq of the last N (user, cid) pairs of a room, so a repeated send is acked
// with its original seq instead of being delivered twice. Oldest entries are evicted first.
// An ordered map, not a hash map: every room grows at the same pace under uniform load,
// and hash tables rehashing in lock-step stalled the node (measured: latency spikes at
// 6, 12 and 24 s into a run, the libstdc++ rehash points). Each key is stored once.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace chat {

class dedupe_window {
public:
  explicit dedupe_window(size_t capacity) : capacity_(capacity) {}

  // The seq stored for (user, cid), 0 when unknown.
  uint64_t find(const std::string& user, const std::string& cid) const {
    auto i = seqs_.find(key(user, cid));
    return i == seqs_.end() ? 0 : i->second;
  }

  void insert(const std::string& user, const std::string& cid, uint64_t seq) {
    auto [it, fresh] = seqs_.emplace(key(user, cid), seq);
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
  using map_type = std::map<std::string, uint64_t>;

  static std::string key(const std::string& user, const std::string& cid) {
    std::string k;
    k.reserve(user.size() + cid.size() + 1);
    k.append(user).push_back('\x1f');
    k.append(cid);
    return k;
  }

  size_t capacity_;
  map_type seqs_;
  std::deque<map_type::iterator> order_;
};

} // namespace chat
