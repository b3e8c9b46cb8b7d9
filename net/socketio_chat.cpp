// Chat adapter and encoder for Socket.IO clients. The encoder frames the objects that
// object_encoder writes for every protocol: one frame per room message, written once.
#include "net/socketio_chat.hpp"

#include "net/native_codec.hpp"

#include <rapidjson/document.h>

#include <charconv>
#include <chrono>

namespace chat::net::sio {

namespace {

constexpr size_t max_token_bytes = 4096;
constexpr size_t max_user_bytes = 64;
constexpr size_t max_pid_bytes = 64;
constexpr size_t max_offset_bytes = 256; // a room name (128 bytes) and a seq

std::string string_field(const rapidjson::Value& obj, const char* key, size_t max,
                         std::string& error) {
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd())
    return {};
  if (!i->value.IsString() || i->value.GetStringLength() > max) {
    error = std::string("auth field '") + key + "' must be a string of at most "
            + std::to_string(max) + " bytes";
    return {};
  }
  return std::string(i->value.GetString(), i->value.GetStringLength());
}

std::string recovery_field(const rapidjson::Value& obj, const char* key, size_t max) {
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd() || !i->value.IsString() || i->value.GetStringLength() > max)
    return {};
  return std::string(i->value.GetString(), i->value.GetStringLength());
}

} // namespace

command decode_chat_event(const rapidjson::Value& args, const packet& p) {
  static const rapidjson::Value no_fields(rapidjson::kObjectType);
  std::string rid = p.has_id ? std::to_string(p.id) : std::string();
  std::string_view name(args[0].GetString(), args[0].GetStringLength());
  if (p.type == packet_type::binary_event)
    return invalid_command("chat events carry no binary attachments", std::move(rid));
  const rapidjson::Value* fields = &no_fields;
  if (args.Size() >= 2) {
    if (!args[1].IsObject())
      return invalid_command("the argument of an event must be an object of the op's fields",
                           std::move(rid));
    fields = &args[1];
  }
  return decode_command(name, *fields, std::move(rid));
}

chat_auth parse_chat_auth(const rapidjson::Value& auth) {
  chat_auth a;
  if (!auth.IsObject())
    return a;
  a.token = string_field(auth, "token", max_token_bytes, a.error);
  a.user = string_field(auth, "user", max_user_bytes, a.error);
  // Recovery fields the node cannot use (off, or not strings of a sane length) are only
  // ignored, as any other unknown field: the client then gets a new socket.
  a.pid = recovery_field(auth, "pid", max_pid_bytes);
  a.offset = recovery_field(auth, "offset", max_offset_bytes);
  return a;
}

const chat_encoder& chat_encoder::instance() {
  static const chat_encoder enc(false);
  return enc;
}

const chat_encoder& chat_encoder::with_offsets() {
  static const chat_encoder enc(true);
  return enc;
}

std::string chat_encoder::offset(const std::string& room, uint64_t seq) {
  return room + "/" + std::to_string(seq);
}

std::string chat_encoder::offset_suffix(std::string_view offset) {
  auto escaped = json_string_contents(offset);
  std::string s;
  s.reserve(escaped.size() + 4);
  s.append(",\"").append(escaped).append("\"]");
  return s;
}

frame_ptr chat_encoder::msg_frame(const open_object& object, const chat_message& m) const {
  if (!offsets_)
    return frame(object, {});
  // Its own per-thread buffer: `object.text` stays valid.
  auto room = json_string_contents(m.room);
  char seq[24];
  auto end = std::to_chars(seq, seq + sizeof(seq), m.seq).ptr;
  return text_frame({"42[\"msg\",", object.text, "},\"", room, "/",
                     std::string_view(seq, size_t(end - seq)), "\"]"});
}

frame_ptr chat_encoder::frame(const open_object& object, const std::string& rid) const {
  if (rid.empty())
    return text_frame({"42[\"", object.op, "\",", object.text, "}]"});
  return text_frame({"43", rid, "[", object.text, "}]"});
}

void chat_app::on_connect(session& s, const std::string& nsp, const rapidjson::Value& auth) {
  if (nsp != "/") {
    s.refuse(nsp, "Invalid namespace");
    return;
  }
  binding_->connect(s, auth);
}

void chat_app::on_event(session&, packet& p, const rapidjson::Value& args) {
  queue(decode_chat_event(args, p));
}

// The usual event, ["op", {fields}], without building a document (decode_chat_event's
// result for it, at a fraction of the cost).
bool chat_app::on_event_text(session& s, packet& p) {
  std::string rid = p.has_id ? std::to_string(p.id) : std::string();
  auto c = decode_event_args(p.data, rid, s.packet_limits().max_depth, reserved_event);
  if (!c)
    return false;
  queue(std::move(*c));
  return true;
}

void chat_app::queue(command&& c) {
  c.t0_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::steady_clock::now().time_since_epoch())
              .count();
  batch_.push_back(std::move(c));
}

void chat_app::on_batch_end(session&) {
  if (batch_.empty())
    return;
  binding_->commands(std::move(batch_));
  batch_.clear();
}

void chat_app::on_close(session& s, const std::string& reason) {
  // A client's Engine.IO close packet, a dropped transport or a missed pong: the client
  // may come back. A DISCONNECT closes with cause `server` (socketio_session.cpp).
  auto cause = s.engine().cause();
  bool recoverable = cause == eio::close_cause::client || cause == eio::close_cause::transport_closed
                     || cause == eio::close_cause::ping_timeout;
  binding_->closed(reason, recoverable);
}

} // namespace chat::net::sio
