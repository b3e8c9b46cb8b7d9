// Native protocol codec on RapidJSON. Encoding writes into a per-thread buffer and makes
// one allocation per frame (the shared frame itself).
#include "net/native_codec.hpp"

#include "net/utf8.hpp"
#include "net/ws_frame.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
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
  }
  return "internal";
}

} // namespace chat

namespace chat::net {

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;
constexpr size_t max_room_bytes = 128;
constexpr size_t max_cid_bytes = 128;
constexpr size_t max_presence_users = 1000;
constexpr uint32_t max_history = 500;

command invalid(const std::string& message, std::string rid = {},
                error_code code = error_code::bad_request) {
  command c;
  c.kind = op::invalid;
  c.err = code;
  c.err_message = message;
  c.rid = std::move(rid);
  return c;
}

bool get_string(const rapidjson::Value& obj, const char* key, std::string& out, bool required,
                std::string& err) {
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd()) {
    if (required)
      err = std::string("missing field '") + key + "'";
    return !required;
  }
  if (!i->value.IsString()) {
    err = std::string("field '") + key + "' must be a string";
    return false;
  }
  out.assign(i->value.GetString(), i->value.GetStringLength());
  return true;
}

bool get_uint(const rapidjson::Value& obj, const char* key, uint64_t& out, bool& present,
              std::string& err) {
  auto i = obj.FindMember(key);
  present = i != obj.MemberEnd() && !i->value.IsNull();
  if (!present)
    return true;
  if (!i->value.IsUint64()) {
    err = std::string("field '") + key + "' must be a non-negative integer";
    return false;
  }
  out = i->value.GetUint64();
  return true;
}

bool get_room(const rapidjson::Value& obj, command& c, std::string& err) {
  if (!get_string(obj, "room", c.room, true, err))
    return false;
  if (c.room.empty() || c.room.size() > max_room_bytes) {
    err = "field 'room' must be 1.." + std::to_string(max_room_bytes) + " bytes";
    return false;
  }
  return true;
}

const std::pair<const char*, op> op_names[] = {
  {"join", op::join}, {"leave", op::leave}, {"send", op::send}, {"history", op::history},
  {"typing", op::typing}, {"read", op::read}, {"presence", op::presence}, {"ping", op::ping}};

bool decode_fields(const rapidjson::Value& doc, command& c, std::string& err) {
  bool present = false;
  switch (c.kind) {
    case op::join:
      return get_room(doc, c, err) && get_uint(doc, "since", c.seq, c.has_seq, err);
    case op::leave:
    case op::typing:
      return get_room(doc, c, err);
    case op::read:
      if (!get_room(doc, c, err) || !get_uint(doc, "seq", c.seq, c.has_seq, err))
        return false;
      if (!c.has_seq)
        err = "missing field 'seq'";
      return c.has_seq;
    case op::send: {
      if (!get_room(doc, c, err) || !get_string(doc, "text", c.text, true, err))
        return false;
      auto cid = doc.FindMember("cid");
      if (cid == doc.MemberEnd()) {
        err = "missing field 'cid'";
        return false;
      }
      if (cid->value.IsString())
        c.cid.assign(cid->value.GetString(), cid->value.GetStringLength());
      else if (cid->value.IsUint64())
        c.cid = std::to_string(cid->value.GetUint64());
      else {
        err = "field 'cid' must be a string";
        return false;
      }
      if (c.cid.empty() || c.cid.size() > max_cid_bytes) {
        err = "field 'cid' must be 1.." + std::to_string(max_cid_bytes) + " bytes";
        return false;
      }
      std::string ack;
      if (!get_string(doc, "ack", ack, false, err))
        return false;
      if (doc.HasMember("ack")) {
        if (ack != "seq" && ack != "persisted") {
          err = "field 'ack' must be \"seq\" or \"persisted\"";
          return false;
        }
        c.ack_given = true;
        c.ack_persisted = ack == "persisted";
      }
      return true;
    }
    case op::history: {
      uint64_t limit = 50;
      if (!get_room(doc, c, err) || !get_uint(doc, "before", c.seq, c.has_seq, err)
          || !get_uint(doc, "limit", limit, present, err))
        return false;
      if (limit == 0) {
        err = "field 'limit' must be at least 1";
        return false;
      }
      c.limit = uint32_t(std::min<uint64_t>(limit, max_history));
      return true;
    }
    case op::presence: {
      auto users = doc.FindMember("users");
      if (users == doc.MemberEnd() || !users->value.IsArray()) {
        err = "field 'users' must be an array of strings";
        return false;
      }
      if (users->value.Size() > max_presence_users) {
        err = "at most " + std::to_string(max_presence_users) + " users per presence query";
        return false;
      }
      for (auto& u : users->value.GetArray()) {
        if (!u.IsString()) {
          err = "field 'users' must be an array of strings";
          return false;
        }
        c.users.emplace_back(u.GetString(), u.GetStringLength());
      }
      return true;
    }
    case op::ping:
    case op::invalid:
      return true;
  }
  return true;
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
    w.Key("rid");
    w.RawValue(rid.data(), rid.size(), rapidjson::kStringType);
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
  w.String(m.room);
  w.Key("seq");
  w.Uint64(m.seq);
  w.Key("from");
  w.String(m.user);
  w.Key("text");
  w.String(m.text);
  w.Key("ts");
  w.Int64(m.ts_ms);
  w.Key("cid");
  w.String(m.cid);
}

} // namespace

command decode_native(std::string_view payload) {
  // Small frames parse in per-thread buffers: a default Document would allocate a 64 KiB
  // pool chunk per frame. Larger frames spill over into the heap as usual.
  thread_local char value_buffer[16384];
  thread_local char parse_buffer[4096];
  rapidjson::MemoryPoolAllocator<> values(value_buffer, sizeof(value_buffer));
  rapidjson::MemoryPoolAllocator<> stack(parse_buffer, sizeof(parse_buffer));
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
    doc(&values, 1024, &stack);
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(
    payload.data(), payload.size());
  if (doc.HasParseError())
    return invalid(std::string("malformed JSON: ") + rapidjson::GetParseError_En(doc.GetParseError())
                   + " at offset " + std::to_string(doc.GetErrorOffset()));
  if (!doc.IsObject())
    return invalid("a frame must be a JSON object");
  std::string rid;
  if (auto r = doc.FindMember("rid"); r != doc.MemberEnd()) {
    if (!r->value.IsString() && !r->value.IsNumber())
      return invalid("field 'rid' must be a string or a number");
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    r->value.Accept(w);
    rid.assign(buf.GetString(), buf.GetSize());
  }
  auto o = doc.FindMember("op");
  if (o == doc.MemberEnd() || !o->value.IsString())
    return invalid("missing field 'op'", rid);
  return decode_command(std::string_view(o->value.GetString(), o->value.GetStringLength()), doc,
                        std::move(rid));
}

command decode_command(std::string_view name, const rapidjson::Value& fields, std::string rid) {
  command c;
  for (auto& [n, k] : op_names)
    if (name == n)
      c.kind = k;
  if (c.kind == op::invalid)
    return invalid("unknown op '" + std::string(utf8_prefix(name, 64)) + "'", std::move(rid));
  c.rid = std::move(rid);
  std::string err;
  if (!decode_fields(fields, c, err))
    return invalid(err, std::move(c.rid));
  return c;
}

const native_encoder& native_encoder::instance() {
  static const native_encoder enc;
  return enc;
}

frame_ptr native_encoder::hello(const std::string& user, const std::string& node,
                                const std::string& session) const {
  return build("hello", {}, [&](json_writer& w) {
    w.Key("user");
    w.String(user);
    w.Key("node");
    w.String(node);
    w.Key("session");
    w.String(session);
  });
}

frame_ptr native_encoder::joined(const std::string& room, uint64_t seq,
                                 const std::string& rid) const {
  return build("joined", rid, [&](json_writer& w) {
    w.Key("room");
    w.String(room);
    w.Key("seq");
    w.Uint64(seq);
  });
}

frame_ptr native_encoder::left(const std::string& room, const std::string& rid) const {
  return build("left", rid, [&](json_writer& w) {
    w.Key("room");
    w.String(room);
  });
}

frame_ptr native_encoder::ack(const std::string& room, const std::string& cid, uint64_t seq,
                              int64_t ts_ms, const std::string& rid) const {
  return build("ack", rid, [&](json_writer& w) {
    w.Key("cid");
    w.String(cid);
    w.Key("room");
    w.String(room);
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
    w.String(room);
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
    w.String(room);
    w.Key("user");
    w.String(user);
    w.Key("event");
    w.String(joined ? "join" : "leave");
  });
}

frame_ptr native_encoder::presence(const std::string& user, bool online) const {
  return build("presence", {}, [&](json_writer& w) {
    w.Key("user");
    w.String(user);
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
      w.Key(user.c_str(), rapidjson::SizeType(user.size()));
      w.String(on ? "online" : "offline");
    }
    w.EndObject();
  });
}

frame_ptr native_encoder::typing(const std::string& room, const std::string& user) const {
  return build("typing", {}, [&](json_writer& w) {
    w.Key("room");
    w.String(room);
    w.Key("user");
    w.String(user);
  });
}

frame_ptr native_encoder::read(const std::string& room, const std::string& user,
                               uint64_t seq) const {
  return build("read", {}, [&](json_writer& w) {
    w.Key("room");
    w.String(room);
    w.Key("user");
    w.String(user);
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
    w.String(message);
  });
}

frame_ptr native_encoder::pong(const std::string& rid) const {
  return build("pong", rid, [](json_writer&) {});
}

} // namespace chat::net
