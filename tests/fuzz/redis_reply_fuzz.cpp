// Fuzz target: bytes from a Redis server. They go through the reply reader (hiredis's
// parser with our bounded object hooks) in two pieces, and every reply through the parsers
// that read replies: CLUSTER SLOTS, stream ranges, MOVED/ASK errors, published messages.
// Nothing may crash, hang or allocate without bound.
#include "net/redis/message_codec.hpp"
#include "net/redis/resp.hpp"
#include "net/redis/room_log.hpp"
#include "net/redis/slot_map.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chat::redis;
  auto* bytes = reinterpret_cast<const char*>(data);
  reader rd;
  size_t half = size / 2;
  if (!rd.feed(bytes, half) || !rd.feed(bytes + half, size - half))
    return 0;
  reply r;
  for (int n = 0; n < 64 && rd.next(r) == 1; ++n) {
    slot_map map;
    parse_cluster_slots(r, endpoint{"127.0.0.1", 7000}, map);
    parse_range(r, "room", 3, 0, 100, 1 << 16);
    parse_range(r, "room", 0, 50, 1000, 1 << 16);
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
  return 0;
}
