// Fuzz target: what other nodes publish on Redis channels — a room message as published on
// a room's channel ("<seq>:<body>"), a presence event, a revocation. Whatever the bytes,
// decoding answers a value or an error, never crashes or reads out of bounds; what
// decodes re-encodes to bytes that decode to the same value.
#include "net/redis/message_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chat::redis;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  presence_event e;
  if (decode_presence_event(input, 1 << 16, e).empty()) {
    presence_event again;
    if (!decode_presence_event(encode_presence_event(e), 1 << 20, again).empty()
        || again.user != e.user || again.online != e.online || again.rooms != e.rooms)
      std::abort();
  }
  revocation r;
  if (decode_revocation(input, r).empty()) {
    revocation again;
    if (!decode_revocation(encode_revocation(r), again).empty() || again.user != r.user
        || again.origin != r.origin || again.valid_after_s != r.valid_after_s)
      std::abort();
  }
  room_message m;
  if (!decode_published(input, 1 << 16, m).empty())
    return 0;
  room_message again;
  if (!decode_body(encode_body(m), 1 << 20, again).empty())
    std::abort();
  if (again.room != m.room || again.user != m.user || again.cid != m.cid
      || again.text != m.text || again.origin != m.origin || again.ts_ms != m.ts_ms)
    std::abort();
  return 0;
}
