// Node-wide memory of recent client message ids: (user, cid) -> (room, text), so that one
// user's cid reused in another room, or with another text, is answered `conflict` even
// though each room only knows its own ids. Fixed size, allocated once, never grows: a
// slot is a 64-bit hash of (user, cid) with hashes of the room and the text. It is lossy
// on purpose: when a key's probe slots are all taken the first one is overwritten, so a
// very old id may be forgotten (the store's unique (user, cid) index still keeps a second
// message from hiding the first). Lock-striped: a claim locks one of 64 small mutexes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

namespace chat {

class cid_index {
public:
  enum class verdict { fresh, same, conflict };

  // `entries` slots (rounded up to a multiple of the stripe count); 0 disables the index.
  explicit cid_index(size_t entries)
    : per_stripe_(entries == 0 ? 0 : (entries + stripes - 1) / stripes),
      slots_(per_stripe_ * stripes) {}

  // Claims (user, cid) for (room, text): `fresh` when unknown (now remembered), `same`
  // when the same room and text hold it, `conflict` when another room or text does.
  verdict claim(std::string_view user, std::string_view cid, uint64_t room, uint64_t text) {
    if (per_stripe_ == 0)
      return verdict::fresh;
    uint64_t key = key_of(user, cid);
    size_t stripe = key % stripes;
    size_t home = (key / stripes) % per_stripe_;
    std::lock_guard<std::mutex> guard(locks_[stripe].m);
    slot* free_slot = nullptr;
    for (size_t probe = 0; probe < max_probe; ++probe) {
      auto& s = slots_[stripe * per_stripe_ + (home + probe) % per_stripe_];
      if (s.key == key)
        return s.room == room && s.text == text ? verdict::same : verdict::conflict;
      if (s.key == 0 && !free_slot)
        free_slot = &s;
    }
    if (!free_slot)
      free_slot = &slots_[stripe * per_stripe_ + home];
    *free_slot = {key, room, text};
    return verdict::fresh;
  }

  // Forgets (user, cid) if it is held for exactly (room, text): a claim whose message was
  // refused elsewhere (Redis answered `conflict`) must not stand in for the original.
  void release(std::string_view user, std::string_view cid, uint64_t room, uint64_t text) {
    if (per_stripe_ == 0)
      return;
    uint64_t key = key_of(user, cid);
    size_t stripe = key % stripes;
    size_t home = (key / stripes) % per_stripe_;
    std::lock_guard<std::mutex> guard(locks_[stripe].m);
    for (size_t probe = 0; probe < max_probe; ++probe) {
      auto& s = slots_[stripe * per_stripe_ + (home + probe) % per_stripe_];
      if (s.key == key) {
        if (s.room == room && s.text == text)
          s = slot{};
        return;
      }
    }
  }

  size_t capacity() const { return slots_.size(); }

private:
  static constexpr size_t stripes = 64;
  static constexpr size_t max_probe = 4;
  struct slot {
    uint64_t key = 0, room = 0, text = 0;
  };
  struct alignas(64) lock {
    std::mutex m;
  };

  static uint64_t key_of(std::string_view user, std::string_view cid) {
    uint64_t h = std::hash<std::string_view>{}(user);
    h ^= std::hash<std::string_view>{}(cid) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h == 0 ? 1 : h;
  }

  size_t per_stripe_;
  std::vector<slot> slots_;
  std::array<lock, stripes> locks_;
};

} // namespace chat
