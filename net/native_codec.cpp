// Encoder of the native protocol's server frames on RapidJSON's writer (the decoder is in
// native_decoder.cpp). Encoding writes into a per-thread buffer and makes one allocation
// per frame (the shared frame itself); every frame is valid UTF-8 whatever its inputs.
#include "net/native_codec.hpp"

#include "net/unicode.hpp"
#include "net/ws_frame.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chat {

const char* to_string(error_code c) {
  switch (c) {
    case error_code::bad_request: return "bad_request";
    case error_code::unauthorized: return "unauthorized";
    case error_code::forbidden: return "forbidden";
    case error_code::not_member: return "not_member";
    case error_code::rate_limited: return "rate_limited";
    case error_code::too_large: return "too_large";
    case error_code::unavailable: return "unavailable";
    case error_code::internal: return "internal";
    case error_code::conflict: return "conflict";
  }
  return "internal";
}

} // namespace chat

namespace chat::net {

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// `s`, or when it is not valid UTF-8 (an old stored message, a configured node name) a
// per-thread copy with U+FFFD in place of each ill-formed sequence, valid until the next
// call: a client must never receive a frame it has to reject.
std::string_view valid_text(std::string_view s) {
  if (utf8_valid(s))
    return s;
  thread_local std::string repaired;
  if (repaired.capacity() > (1u << 20)) // the previous view is no longer in use
    std::string().swap(repaired);
  return utf8_repaired(s, repaired);
}

void put(json_writer& w, std::string_view s) {
  auto text = valid_text(s);
  w.String(text.data(), rapidjson::SizeType(text.size()));
}

rapidjson::StringBuffer& scratch() {
  thread_local rapidjson::StringBuffer buf;
  buf.Clear();
  return buf;
}

// Runs `body` on a writer inside `{ "op": op, ... , "rid": rid }` and frames the result.
template <class Body>
frame_ptr build(const char* op_name, const std::string& rid, Body&& body) {
  auto& buf = scratch();
  json_writer w(buf);
  w.StartObject();
  w.Key("op");
  w.String(op_name);
  body(w);
  if (!rid.empty()) {
    auto raw = valid_text(rid);
    w.Key("rid");
    w.RawValue(raw.data(), raw.size(), rapidjson::kStringType);
  }
  w.EndObject();
  auto frame = std::make_shared<std::string>();
  frame->reserve(buf.GetSize() + 10);
  append_frame_header(*frame, ws_opcode::text, buf.GetSize());
  frame->append(buf.GetString(), buf.GetSize());
  return frame;
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

} // namespace

const native_encoder& native_encoder::instance() {
  static const native_encoder enc;
  return enc;
}

frame_ptr native_encoder::hello(const std::string& user, const std::string& node,
                                const std::string& session) const {
  return build("hello", {}, [&](json_writer& w) {
    w.Key("user");
    put(w, user);
    w.Key("node");
    put(w, node);
    w.Key("session");
    put(w, session);
  });
}

frame_ptr native_encoder::joined(const std::string& room, uint64_t seq,
                                 const std::string& rid) const {
  return build("joined", rid, [&](json_writer& w) {
    w.Key("room");
    put(w, room);
    w.Key("seq");
    w.Uint64(seq);
  });
}

frame_ptr native_encoder::left(const std::string& room, const std::string& rid) const {
  return build("left", rid, [&](json_writer& w) {
    w.Key("room");
    put(w, room);
  });
}

frame_ptr native_encoder::ack(const std::string& room, const std::string& cid, uint64_t seq,
                              int64_t ts_ms, const std::string& rid) const {
  return build("ack", rid, [&](json_writer& w) {
    w.Key("cid");
    put(w, cid);
    w.Key("room");
    put(w, room);
    w.Key("seq");
    w.Uint64(seq);
    w.Key("ts");
    w.Int64(ts_ms);
  });
}

frame_ptr native_encoder::msg(const chat_message& m) const {
  return build("msg", {}, [&](json_writer& w) { write_msg_fields(w, m); });
}

frame_ptr native_encoder::history(const std::string& room,
                                  const std::vector<const chat_message*>& ms,
                                  const std::string& rid) const {
  return build("history", rid, [&](json_writer& w) {
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
  });
}

frame_ptr native_encoder::member(const std::string& room, const std::string& user,
                                 bool joined) const {
  return build("member", {}, [&](json_writer& w) {
    w.Key("room");
    put(w, room);
    w.Key("user");
    put(w, user);
    w.Key("event");
    w.String(joined ? "join" : "leave");
  });
}

frame_ptr native_encoder::presence(const std::string& user, bool online) const {
  return build("presence", {}, [&](json_writer& w) {
    w.Key("user");
    put(w, user);
    w.Key("status");
    w.String(online ? "online" : "offline");
  });
}

frame_ptr native_encoder::presence_reply(const std::map<std::string, bool>& online,
                                         const std::string& rid) const {
  return build("presence", rid, [&](json_writer& w) {
    w.Key("users");
    w.StartObject();
    for (auto& [user, on] : online) {
      auto name = valid_text(user);
      w.Key(name.data(), rapidjson::SizeType(name.size()));
      w.String(on ? "online" : "offline");
    }
    w.EndObject();
  });
}

frame_ptr native_encoder::typing(const std::string& room, const std::string& user) const {
  return build("typing", {}, [&](json_writer& w) {
    w.Key("room");
    put(w, room);
    w.Key("user");
    put(w, user);
  });
}

frame_ptr native_encoder::read(const std::string& room, const std::string& user,
                               uint64_t seq) const {
  return build("read", {}, [&](json_writer& w) {
    w.Key("room");
    put(w, room);
    w.Key("user");
    put(w, user);
    w.Key("seq");
    w.Uint64(seq);
  });
}

frame_ptr native_encoder::error(error_code code, const std::string& message,
                                const std::string& rid) const {
  return build("error", rid, [&](json_writer& w) {
    w.Key("code");
    w.String(to_string(code));
    w.Key("message");
    put(w, message);
  });
}

frame_ptr native_encoder::pong(const std::string& rid) const {
  return build("pong", rid, [](json_writer&) {});
}

} // namespace chat::net
