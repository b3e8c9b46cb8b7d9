// Fuzz target: bytes from a Redis server. They go through the reply reader (hiredis's
// parser with our bounded object hooks; inputs of odd size with a 2 KiB byte bound) in two
// pieces, as a connection reads them (redis_bytes.hpp), and every reply through the
// parsers that read replies: CLUSTER SLOTS, stream ranges, MOVED/ASK errors, published
// messages.
// Nothing may crash, hang or allocate without bound; a stream range keeps its contract
// (messages in seq order, missing ranges inside the asked range and apart from them).
#include "net/redis/message_codec.hpp"
#include "net/redis/resp.hpp"
#include "net/redis/room_log.hpp"
#include "net/redis/slot_map.hpp"
#include "redis_bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

// parse_range's answer for (after, upto] (upto 0: no end) must be ordered and inside it.
void check_range(const chat::redis::reply& r, uint64_t after, uint64_t upto) {
  auto res = chat::redis::parse_range(r, "room", after, upto, 100, 1 << 16);
  uint64_t last = after; // every seq so far, given or missing, is at most this
  size_t m = 0, g = 0;
  while (m < res.messages.size() || g < res.missing.size()) {
    bool message_next = g == res.missing.size()
                        || (m < res.messages.size() && res.messages[m].seq < res.missing[g].first);
    uint64_t first = message_next ? res.messages[m].seq : res.missing[g].first;
    uint64_t end = message_next ? first : res.missing[g].second;
    if (first <= last || end < first || (upto != 0 && end > upto))
      std::abort();
    last = end;
    (message_next ? m : g)++;
  }
}

void check_reply(const chat::redis::reply& r) {
  using namespace chat::redis;
  slot_map map;
  parse_cluster_slots(r, endpoint{"127.0.0.1", 7000}, map);
  check_range(r, 3, 0);
  check_range(r, 0, 50);
  check_range(r, 7, 100);
  if (r.is_error()) {
    int slot;
    endpoint to;
    parse_redirect(r.str, slot, to);
  }
  if (r.is_array() && r.elements.size() == 3 && r.elements[2].is_string()) {
    room_message m;
    decode_published(r.elements[2].str, 1 << 16, m);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using chat::redis::reader;
  reader rd(size % 2 ? 2048 : reader::default_max_reply_bytes); // odd sizes reach a bound
  for_each_reply(rd, data, size, check_reply);
  return 0;
}
