// The dedupe window's ring and index (see dedupe_window.hpp). Linear probing; an erased
// cell is filled by shifting later cells of its run back, so there are no tombstones.
#include "actors/dedupe_window.hpp"

#include <algorithm>

namespace chat {

namespace {

constexpr size_t min_index = 16;

} // namespace

dedupe_window::dedupe_window(size_t capacity)
  : capacity_(std::min<size_t>(capacity, UINT32_MAX - 1)) {}

uint64_t dedupe_window::hash_of(std::string_view user, std::string_view cid) {
  std::hash<std::string_view> h;
  uint64_t a = h(user), b = h(cid);
  // Mixed so that (user, cid) and (cid, user) differ, then spread (splitmix64's finalizer).
  uint64_t x = a * 0x9e3779b97f4a7c15ull ^ (b + 0x7f4a7c15ull + (a << 6) + (a >> 2));
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

bool dedupe_window::same(const slot& s, std::string_view user, std::string_view cid) const {
  return s.user_len == user.size() && s.key.size() == user.size() + cid.size()
         && std::string_view(s.key).substr(0, user.size()) == user
         && std::string_view(s.key).substr(user.size()) == cid;
}

// The ring position of (user, cid), or ring_.size() when it is not known.
size_t dedupe_window::locate(uint64_t hash, std::string_view user, std::string_view cid) const {
  if (index_.empty())
    return ring_.size();
  size_t mask = index_.size() - 1;
  auto tag = uint32_t(hash >> 32);
  for (size_t i = size_t(hash) & mask;; i = (i + 1) & mask) {
    auto& c = index_[i];
    if (c.pos == 0)
      return ring_.size();
    if (c.tag == tag) {
      auto& s = ring_[c.pos - 1];
      if (s.hash == hash && same(s, user, cid))
        return c.pos - 1;
    }
  }
}

dedupe_window::entry dedupe_window::find(std::string_view user, std::string_view cid) const {
  auto pos = locate(hash_of(user, cid), user, cid);
  return pos == ring_.size() ? entry{} : ring_[pos].value;
}

void dedupe_window::insert(std::string_view user, std::string_view cid, uint64_t seq,
                           uint64_t text) {
  if (capacity_ == 0)
    return;
  auto hash = hash_of(user, cid);
  if (locate(hash, user, cid) != ring_.size())
    return;
  size_t pos;
  if (ring_.size() < capacity_) {
    pos = ring_.size();
    ring_.emplace_back();
    if (index_.size() < 2 * ring_.size())
      grow_index();
  } else {
    pos = oldest_;
    oldest_ = (oldest_ + 1) % capacity_;
    index_erase(ring_[pos].hash, uint32_t(pos + 1));
  }
  auto& s = ring_[pos];
  s.key.assign(user.data(), user.size());
  s.key.append(cid.data(), cid.size());
  s.user_len = uint32_t(user.size());
  s.hash = hash;
  s.value = entry{seq, text};
  index_insert(hash, uint32_t(pos + 1));
}

void dedupe_window::index_insert(uint64_t hash, uint32_t pos) {
  size_t mask = index_.size() - 1;
  size_t i = size_t(hash) & mask;
  while (index_[i].pos != 0)
    i = (i + 1) & mask;
  index_[i] = cell{pos, uint32_t(hash >> 32)};
}

void dedupe_window::index_erase(uint64_t hash, uint32_t pos) {
  size_t mask = index_.size() - 1;
  size_t i = size_t(hash) & mask;
  while (index_[i].pos != pos) {
    if (index_[i].pos == 0)
      return; // not indexed (cannot happen)
    i = (i + 1) & mask;
  }
  // Backward shift: move each later cell of the run into the hole when its home allows.
  for (size_t j = (i + 1) & mask; index_[j].pos != 0; j = (j + 1) & mask) {
    size_t home = size_t(ring_[index_[j].pos - 1].hash) & mask;
    // The cell at j may fill the hole at i unless its home lies cyclically in (i, j].
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      index_[i] = index_[j];
      i = j;
    }
  }
  index_[i] = cell{};
}

void dedupe_window::grow_index() {
  size_t size = std::max(min_index, index_.size() * 2);
  index_.assign(size, cell{});
  for (size_t p = 0; p < ring_.size(); ++p)
    if (p + 1 != ring_.size()) // the newest slot is indexed by insert() once filled
      index_insert(ring_[p].hash, uint32_t(p + 1));
}

} // namespace chat
