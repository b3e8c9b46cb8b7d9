// Bytes from a Redis server as the Redis fuzz targets feed them: into a reply reader in two
// pieces, as a connection reads them, taking the complete replies after each piece (at
// most 64 in all).
#pragma once

#include "net/redis/resp.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>

// Calls `each(const chat::redis::reply&)` for every complete reply; stops at a protocol error.
template <class Each>
void for_each_reply(chat::redis::reader& rd, const uint8_t* data, size_t size, Each&& each) {
  auto* bytes = reinterpret_cast<const char*>(data);
  size_t half = size / 2;
  int replies = 0;
  for (auto [from, n] : {std::pair{bytes, half}, std::pair{bytes + half, size - half}}) {
    if (!rd.feed(from, n))
      return;
    chat::redis::reply r;
    int got = 0;
    while (replies < 64 && (got = rd.next(r)) == 1) {
      ++replies;
      each(r);
    }
    if (got < 0)
      return;
  }
}
