// Remembers the seq and a hash of the text of the last N (user, cid) pairs of a room, so a
// repeated send is acked with its original seq instead of being delivered twice, and a
// repeated cid with another text is told apart (a conflict). Oldest entries are evicted
// first.
//
// Every message of a room passes through here (on every node that has members of it), so
// it is built for that: entries live in a ring that grows by doubling up to N and then
// reuses its slots (an entry's key string keeps its capacity, so a full window allocates
// nothing), and an open-addressing index of 8-byte cells finds them (one probe mostly, no
// node per entry). The index doubles with the ring, which moves only those small cells:
// node-based hash tables rehashing in lock-step in every room once stalled the node
// (latency spikes at 6, 12 and 24 s into a run); an ordered map instead cost ~3 µs per
// lookup in cache misses at 100 rooms of 2,000 entries.
#pragma once

#include <cstdint>
#include <functional>
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

  explicit dedupe_window(size_t capacity);

  entry find(std::string_view user, std::string_view cid) const;
  // Remembers (user, cid); a pair already known keeps its first seq and text.
  void insert(std::string_view user, std::string_view cid, uint64_t seq, uint64_t text);
  size_t size() const { return ring_.size(); }

private:
  struct slot {
    std::string key;       // user followed by cid
    uint32_t user_len = 0;
    uint64_t hash = 0;
    entry value;
  };
  // An index cell: the ring position + 1 (0: empty) and 32 more bits of the hash, so most
  // mismatches are told without touching the entry.
  struct cell {
    uint32_t pos = 0;
    uint32_t tag = 0;
  };

  static uint64_t hash_of(std::string_view user, std::string_view cid);
  bool same(const slot& s, std::string_view user, std::string_view cid) const;
  size_t locate(uint64_t hash, std::string_view user, std::string_view cid) const;
  void index_insert(uint64_t hash, uint32_t pos);
  void index_erase(uint64_t hash, uint32_t pos);
  void grow_index();

  size_t capacity_;
  std::vector<slot> ring_;   // grows to capacity_, then a ring from oldest_
  std::vector<cell> index_;  // size a power of two, at least twice the entries
  size_t oldest_ = 0;
};

} // namespace chat
