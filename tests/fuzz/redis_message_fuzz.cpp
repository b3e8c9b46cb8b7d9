// Fuzz target: a room message as published on a room's Redis channel ("<seq>:<body>").
// Whatever the bytes, decoding answers a message or an error, never crashes or reads out
// of bounds; what decodes re-encodes to a body that decodes to the same message.
#include "net/redis/message_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chat::redis;
  std::string_view input(reinterpret_cast<const char*>(data), size);
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
