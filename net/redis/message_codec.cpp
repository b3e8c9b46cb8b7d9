// Encoding and strict decoding of room messages and presence events carried by Redis (see
// message_codec.hpp).
#include "net/redis/message_codec.hpp"

#include "net/redis/resp.hpp"

#include <charconv>
#include <initializer_list>

namespace chat::redis {

namespace {

constexpr char version = '1';
constexpr size_t max_len_digits = 10;

void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out.append(field.data(), field.size());
}

// Reads "<len>:<bytes>" from the front of `in`.
bool take(std::string_view& in, std::string_view& field) {
  size_t digits = 0;
  while (digits < in.size() && digits <= max_len_digits && in[digits] >= '0' && in[digits] <= '9')
    ++digits;
  if (digits == 0 || digits > max_len_digits || digits >= in.size() || in[digits] != ':')
    return false;
  if (digits > 1 && in[0] == '0')
    return false;
  uint64_t len = 0;
  std::from_chars(in.data(), in.data() + digits, len);
  in.remove_prefix(digits + 1);
  if (len > in.size())
    return false;
  field = in.substr(0, size_t(len));
  in.remove_prefix(size_t(len));
  return true;
}

// Reads one field into each of `fields`, after which nothing may be left; "" or what is
// wrong with it (`what` names the whole).
std::string take_all(std::string_view in, std::initializer_list<std::string_view*> fields,
                     const char* what) {
  for (auto* f : fields)
    if (!take(in, *f))
      return "truncated or malformed field";
  if (!in.empty())
    return std::string("trailing bytes after the ") + what;
  return {};
}

} // namespace

std::string encode_body(const room_message& m) {
  std::string out;
  out.reserve(m.room.size() + m.user.size() + m.cid.size() + m.origin.size() + m.text.size()
               + 48);
  out += version;
  put(out, m.room);
  put(out, m.user);
  put(out, m.cid);
  put(out, m.origin);
  put(out, std::to_string(m.ts_ms));
  put(out, m.text);
  return out;
}

std::string decode_body(std::string_view body, size_t max_bytes, room_message& out) {
  if (body.size() > max_bytes)
    return "message larger than " + std::to_string(max_bytes) + " bytes";
  if (body.empty() || body[0] != version)
    return "unknown message format";
  body.remove_prefix(1);
  std::string_view room, user, cid, origin, ts, text;
  if (auto err = take_all(body, {&room, &user, &cid, &origin, &ts, &text}, "message");
      !err.empty())
    return err;
  if (room.empty())
    return "empty room";
  int64_t ts_ms;
  if (!parse_int(ts, ts_ms))
    return "bad timestamp";
  out.room.assign(room);
  out.user.assign(user);
  out.cid.assign(cid);
  out.origin.assign(origin);
  out.text.assign(text);
  out.ts_ms = ts_ms;
  return {};
}

std::string decode_published(std::string_view payload, size_t max_bytes, room_message& out) {
  auto colon = payload.find(':');
  if (colon == std::string_view::npos || colon > 20)
    return "missing seq";
  uint64_t seq;
  if (!parse_uint(payload.substr(0, colon), seq) || seq == 0)
    return "bad seq";
  auto err = decode_body(payload.substr(colon + 1), max_bytes, out);
  if (err.empty())
    out.seq = seq;
  return err;
}

std::string encode_room_fields(const std::vector<std::string>& rooms) {
  std::string out;
  for (auto& r : rooms)
    put(out, r);
  return out;
}

std::string encode_presence_event(const presence_event& e) {
  std::string out(1, e.online ? '+' : '-');
  put(out, e.user);
  return out + encode_room_fields(e.rooms);
}

std::string decode_presence_event(std::string_view payload, size_t max_bytes,
                                  presence_event& out) {
  if (payload.size() > max_bytes)
    return "presence event larger than " + std::to_string(max_bytes) + " bytes";
  if (payload.empty() || (payload[0] != '+' && payload[0] != '-'))
    return "unknown presence event";
  out.online = payload[0] == '+';
  payload.remove_prefix(1);
  std::string_view user;
  if (!take(payload, user) || user.empty())
    return "malformed user";
  out.user.assign(user);
  out.rooms.clear();
  while (!payload.empty()) {
    std::string_view room;
    if (!take(payload, room) || room.empty())
      return "malformed room";
    out.rooms.emplace_back(room);
  }
  return {};
}

std::string encode_revocation(const revocation& r) {
  std::string out = "r";
  put(out, r.origin);
  put(out, r.user);
  put(out, std::to_string(r.valid_after_s));
  return out;
}

std::string decode_revocation(std::string_view payload, revocation& out) {
  constexpr size_t max_bytes = 4096; // two names and a number
  if (payload.size() > max_bytes)
    return "revocation larger than " + std::to_string(max_bytes) + " bytes";
  if (payload.empty() || payload[0] != 'r')
    return "unknown revocation format";
  payload.remove_prefix(1);
  std::string_view origin, user, after;
  if (auto err = take_all(payload, {&origin, &user, &after}, "revocation"); !err.empty())
    return err;
  if (user.empty())
    return "empty user";
  int64_t s;
  if (!parse_int(after, s))
    return "bad time";
  out.origin.assign(origin);
  out.user.assign(user);
  out.valid_after_s = s;
  return {};
}

} // namespace chat::redis
