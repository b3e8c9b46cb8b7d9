// The chat's server objects, written once for every wire protocol (see object_encoder.hpp).
#include "net/object_encoder.hpp"

#include "net/unicode.hpp"
#include "net/ws_frame.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chat::net {

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

const std::string no_rid;

void put(json_writer& w, std::string_view s) {
  auto text = valid_text(s);
  w.String(text.data(), rapidjson::SizeType(text.size()));
}

// Runs `body` on a writer inside `{"op": op, ...` (left open) in a per-thread buffer; the
// text is valid until the next call on this thread.
template <class Body>
object_encoder::open_object object(const char* op_name, Body&& body) {
  thread_local rapidjson::StringBuffer buf;
  buf.Clear();
  json_writer w(buf);
  w.StartObject();
  w.Key("op");
  w.String(op_name);
  body(w);
  return {op_name, std::string_view(buf.GetString(), buf.GetSize())};
}

void write_msg_fields(json_writer& w, const chat_message& m) {
  w.Key("room");
  put(w, m.room);
  w.Key("seq");
  w.Uint64(m.seq);
  w.Key("from");
  put(w, m.user);
  w.Key("text");
  put(w, m.text);
  w.Key("ts");
  w.Int64(m.ts_ms);
  w.Key("cid");
  put(w, m.cid);
}

void write_room_user(json_writer& w, const std::string& room, const std::string& user) {
  w.Key("room");
  put(w, room);
  w.Key("user");
  put(w, user);
}

} // namespace

std::string_view valid_text(std::string_view s) {
  if (utf8_valid(s))
    return s;
  thread_local std::string repaired;
  if (repaired.capacity() > (1u << 20)) // the previous view is no longer in use
    std::string().swap(repaired);
  return utf8_repaired(s, repaired);
}

std::string_view json_string_contents(std::string_view s) {
  thread_local rapidjson::StringBuffer buf;
  buf.Clear();
  json_writer w(buf);
  put(w, s);
  std::string_view quoted(buf.GetString(), buf.GetSize());
  return quoted.substr(1, quoted.size() - 2);
}

frame_ptr text_frame(std::initializer_list<std::string_view> parts) {
  size_t len = 0;
  for (auto p : parts)
    len += p.size();
  auto f = std::make_shared<std::string>();
  f->reserve(len + 10); // the longest header
  append_frame_header(*f, ws_opcode::text, len);
  for (auto p : parts)
    f->append(p);
  return f;
}

frame_ptr object_encoder::hello(const std::string& user, const std::string& node,
                                const std::string& session) const {
  return frame(object("hello", [&](json_writer& w) {
    w.Key("user");
    put(w, user);
    w.Key("node");
    put(w, node);
    w.Key("session");
    put(w, session);
  }), no_rid);
}

frame_ptr object_encoder::joined(const std::string& room, uint64_t seq,
                                 const std::string& rid) const {
  return frame(object("joined", [&](json_writer& w) {
    w.Key("room");
    put(w, room);
    w.Key("seq");
    w.Uint64(seq);
  }), rid);
}

frame_ptr object_encoder::left(const std::string& room, const std::string& rid) const {
  return frame(object("left", [&](json_writer& w) {
    w.Key("room");
    put(w, room);
  }), rid);
}

frame_ptr object_encoder::ack(const std::string& room, const std::string& cid, uint64_t seq,
                              int64_t ts_ms, const std::string& rid) const {
  return frame(object("ack", [&](json_writer& w) {
    w.Key("cid");
    put(w, cid);
    w.Key("room");
    put(w, room);
    w.Key("seq");
    w.Uint64(seq);
    w.Key("ts");
    w.Int64(ts_ms);
  }), rid);
}

frame_ptr object_encoder::msg(const chat_message& m) const {
  return msg_frame(object("msg", [&](json_writer& w) { write_msg_fields(w, m); }), m);
}

frame_ptr object_encoder::history(const std::string& room,
                                  const std::vector<const chat_message*>& ms,
                                  const std::string& rid) const {
  return frame(object("history", [&](json_writer& w) {
    w.Key("room");
    put(w, room);
    w.Key("messages");
    w.StartArray();
    for (auto* m : ms) {
      w.StartObject();
      write_msg_fields(w, *m);
      w.EndObject();
    }
    w.EndArray();
  }), rid);
}

frame_ptr object_encoder::member(const std::string& room, const std::string& user,
                                 bool joined) const {
  return frame(object("member", [&](json_writer& w) {
    write_room_user(w, room, user);
    w.Key("event");
    w.String(joined ? "join" : "leave");
  }), no_rid);
}

frame_ptr object_encoder::presence(const std::string& user, bool online) const {
  return frame(object("presence", [&](json_writer& w) {
    w.Key("user");
    put(w, user);
    w.Key("status");
    w.String(online ? "online" : "offline");
  }), no_rid);
}

frame_ptr object_encoder::presence_reply(const std::map<std::string, bool>& online,
                                         const std::string& rid) const {
  return frame(object("presence", [&](json_writer& w) {
    w.Key("users");
    w.StartObject();
    for (auto& [user, on] : online) {
      auto name = valid_text(user);
      w.Key(name.data(), rapidjson::SizeType(name.size()));
      w.String(on ? "online" : "offline");
    }
    w.EndObject();
  }), rid);
}

frame_ptr object_encoder::typing(const std::string& room, const std::string& user) const {
  return frame(object("typing", [&](json_writer& w) {
    write_room_user(w, room, user);
  }), no_rid);
}

frame_ptr object_encoder::read(const std::string& room, const std::string& user,
                               uint64_t seq) const {
  return frame(object("read", [&](json_writer& w) {
    write_room_user(w, room, user);
    w.Key("seq");
    w.Uint64(seq);
  }), no_rid);
}

frame_ptr object_encoder::error(error_code code, const std::string& message,
                                const std::string& rid) const {
  return frame(object("error", [&](json_writer& w) {
    w.Key("code");
    w.String(to_string(code));
    w.Key("message");
    put(w, message);
  }), rid);
}

frame_ptr object_encoder::pong(const std::string& rid) const {
  return frame(object("pong", [](json_writer&) {}), rid);
}

frame_ptr object_encoder::authed(int64_t expires_s, const std::string& rid) const {
  return frame(object("authed", [&](json_writer& w) {
    w.Key("expires");
    w.Int64(expires_s);
  }), rid);
}

} // namespace chat::net
