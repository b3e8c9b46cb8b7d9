// How a room message, and a presence event, travel through Redis. A room message: in the room's stream (entry id "<seq>-0",
// field "m" = body) and on its channel (payload "<seq>:" + body). The seq is not in the
// body because Redis assigns it inside the sequencing script.
//
// body = "1" (format version) followed by six length-prefixed fields, each "<len>:<bytes>"
// with len in decimal (no sign, no leading zeros, at most 10 digits):
//   room, user, cid, origin (the node that sequenced it), ts (decimal ms), text
// Lengths come first, so user text cannot inject delimiters; every length is checked
// against what is left before it is used; trailing bytes are an error.
//
// A presence event on the {presence}:events channel: "+" (online) or "-" (offline), then
// the user and the rooms it concerns as length-prefixed fields (the same "<len>:<bytes>"):
//   "+5:alice"            alice came online somewhere (no room concerned yet)
//   "+5:alice5:lobby"     alice's first join of lobby on some node
//   "-5:alice5:lobby3:dev" alice went offline everywhere; she was in lobby and dev
//
// A revocation on the {presence}:revoke channel: "r" then three fields: the node that
// revoked, the user, and the second tokens issued at or before are revoked (decimal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

struct presence_event {
  std::string user;
  bool online = false;
  std::vector<std::string> rooms;
};

std::string encode_presence_event(const presence_event& e);
// The rooms part of an event: one "<len>:<room>" field each.
std::string encode_room_fields(const std::vector<std::string>& rooms);
// "" on success, else what is wrong; `max_bytes` bounds the input.
std::string decode_presence_event(std::string_view payload, size_t max_bytes,
                                  presence_event& out);

struct revocation {
  std::string origin; // the node that revoked
  std::string user;
  int64_t valid_after_s = 0;
};

std::string encode_revocation(const revocation& r);
// "" on success, else what is wrong.
std::string decode_revocation(std::string_view payload, revocation& out);

} // namespace chat::redis
