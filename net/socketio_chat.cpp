// Chat adapter and encoder for Socket.IO clients. The encoder wraps the native encoder's
// frames: one extra copy of the object per encoding (once per room message, not per
// recipient), and no second place where the fields of a server frame are written.
#include "net/socketio_chat.hpp"

#include "net/engineio_packet.hpp"
#include "net/native_codec.hpp"
#include "net/ws_frame.hpp"

#include <rapidjson/document.h>

#include <chrono>

namespace chat::net::sio {

namespace {

constexpr size_t max_token_bytes = 4096;
constexpr size_t max_user_bytes = 64;

const native_encoder& native() { return native_encoder::instance(); }

// 43<rid>[object] when the client asked for an ack, else 42["event",object].
frame_ptr wrap(const frame_ptr& native_frame, std::string_view event, const std::string& rid) {
  auto object = eio::view_frame(*native_frame).payload;
  size_t len = rid.empty() ? 2 + 2 + event.size() + 2 + object.size() + 1
                           : 2 + rid.size() + 1 + object.size() + 1;
  auto f = std::make_shared<std::string>();
  f->reserve(len + 10);
  append_frame_header(*f, ws_opcode::text, len);
  if (rid.empty()) {
    f->append("42[\"");
    f->append(event);
    f->append("\",");
  } else {
    f->append("43");
    f->append(rid);
    f->push_back('[');
  }
  f->append(object);
  f->push_back(']');
  return f;
}

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
  return a;
}

const chat_encoder& chat_encoder::instance() {
  static const chat_encoder enc;
  return enc;
}

frame_ptr chat_encoder::hello(const std::string& user, const std::string& node,
                              const std::string& session) const {
  return wrap(native().hello(user, node, session), "hello", {});
}

frame_ptr chat_encoder::joined(const std::string& room, uint64_t seq, const std::string& rid) const {
  return wrap(native().joined(room, seq, {}), "joined", rid);
}

frame_ptr chat_encoder::left(const std::string& room, const std::string& rid) const {
  return wrap(native().left(room, {}), "left", rid);
}

frame_ptr chat_encoder::ack(const std::string& room, const std::string& cid, uint64_t seq,
                            int64_t ts_ms, const std::string& rid) const {
  return wrap(native().ack(room, cid, seq, ts_ms, {}), "ack", rid);
}

frame_ptr chat_encoder::msg(const chat_message& m) const {
  return wrap(native().msg(m), "msg", {});
}

frame_ptr chat_encoder::history(const std::string& room, const std::vector<const chat_message*>& ms,
                                const std::string& rid) const {
  return wrap(native().history(room, ms, {}), "history", rid);
}

frame_ptr chat_encoder::member(const std::string& room, const std::string& user,
                               bool joined) const {
  return wrap(native().member(room, user, joined), "member", {});
}

frame_ptr chat_encoder::presence(const std::string& user, bool online) const {
  return wrap(native().presence(user, online), "presence", {});
}

frame_ptr chat_encoder::presence_reply(const std::map<std::string, bool>& online,
                                       const std::string& rid) const {
  return wrap(native().presence_reply(online, {}), "presence", rid);
}

frame_ptr chat_encoder::typing(const std::string& room, const std::string& user) const {
  return wrap(native().typing(room, user), "typing", {});
}

frame_ptr chat_encoder::read(const std::string& room, const std::string& user,
                             uint64_t seq) const {
  return wrap(native().read(room, user, seq), "read", {});
}

frame_ptr chat_encoder::error(error_code code, const std::string& message,
                              const std::string& rid) const {
  return wrap(native().error(code, message, {}), "error", rid);
}

frame_ptr chat_encoder::pong(const std::string& rid) const {
  return wrap(native().pong({}), "pong", rid);
}

frame_ptr chat_encoder::authed(int64_t expires_s, const std::string& rid) const {
  return wrap(native().authed(expires_s, {}), "authed", rid);
}

void chat_app::on_connect(session& s, const std::string& nsp, const rapidjson::Value& auth) {
  if (nsp != "/") {
    s.refuse(nsp, "Invalid namespace");
    return;
  }
  binding_->connect(s, auth);
}

void chat_app::on_event(session&, packet& p, const rapidjson::Value& args) {
  auto c = decode_chat_event(args, p);
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

void chat_app::on_close(session&, const std::string& reason) {
  binding_->closed(reason);
}

} // namespace chat::net::sio
