// What the protocol accepts in the names and ids a client sends (docs/PROTOCOL.md, "Names,
// ids and text"), shared by every wire codec. Each check takes valid UTF-8 and answers
// "" when the value is acceptable, or why it is not (to complete "field 'x' ...").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chat::net {

constexpr size_t max_room_bytes = 128;
constexpr size_t max_cid_bytes = 128;
constexpr size_t max_rid_bytes = 128;
constexpr size_t max_user_bytes = 64;
constexpr size_t max_presence_users = 1000;
constexpr size_t max_json_depth = 32;
// Room names beginning with this are direct conversations, never created or joined by name.
constexpr std::string_view direct_room_prefix = "dm:";

// 1..128 bytes; no control, whitespace or invisible formatting characters; not `dm:...`.
std::string room_name_problem(std::string_view room);

// 1..max_bytes bytes of printable text: no C0 or C1 control characters, no DEL.
std::string printable_problem(std::string_view s, size_t max_bytes);

} // namespace chat::net
