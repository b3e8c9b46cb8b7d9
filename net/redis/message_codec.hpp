// How a room message travels through Redis: in the room's stream (entry id "<seq>-0",
// field "m" = body) and on its channel (payload "<seq>:" + body). The seq is not in the
// body because Redis assigns it inside the sequencing script.
//
// body = "1" (format version) followed by six length-prefixed fields, each "<len>:<bytes>"
// with len in decimal (no sign, no leading zeros, at most 10 digits):
//   room, user, cid, origin (the node that sequenced it), ts (decimal ms), text
// Lengths come first, so user text cannot inject delimiters; every length is checked
// against what is left before it is used; trailing bytes are an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::redis {

struct room_message {
  std::string room;
  uint64_t seq = 0;
  std::string user;
  std::string cid;
  std::string text;
  int64_t ts_ms = 0;
  std::string origin; // the node that sequenced it
};

std::string encode_body(const room_message& m);

// Each returns "" on success, else what is wrong; `max_bytes` bounds the input.
std::string decode_body(std::string_view body, size_t max_bytes, room_message& out);
// "<seq>:<body>" as published on the room's channel.
std::string decode_published(std::string_view payload, size_t max_bytes, room_message& out);

} // namespace chat::redis
