// The chat over Socket.IO. Each native op is an event of the same name whose argument is
// the op's fields (emit("send", {room, text, cid}, ack)); the ack id is the command's
// `rid`. Server frames are the native protocol's objects (same fields, with "op", without
// "rid"): a reply goes through the client's ack callback (43<id>[{...}]) or, when the
// client gave none, as an event named after its op (42["joined",{...}]); pushes are events
// (42["msg",{...}]). Only the main namespace "/" carries the chat.
#pragma once

#include "net/object_encoder.hpp"
#include "net/socketio_session.hpp"

namespace chat::net::sio {

// An EVENT's arguments [name, fields?] and its ack id into a command, with the native
// protocol's field validation. Bad input yields an `invalid` command carrying the error.
command decode_chat_event(const rapidjson::Value& args, const packet& p);

// The handshake's auth payload: {"token"} or, with anonymous identity, {"user"}. Both are
// strings when present; `error` says what was wrong. Deciding is the caller's job.
struct chat_auth {
  std::string token;
  std::string user;
  std::string error;
};
chat_auth parse_chat_auth(const rapidjson::Value& auth);

// Encoder id 1: ready-to-write WebSocket text frames holding Engine.IO message packets
// with the objects of object_encoder.hpp: 43<rid>[{...}] for a reply the client asked an
// ack for, else 42["<op>",{...}]. The polling transport sends the same frames' payloads
// (see engineio_packet.hpp).
class chat_encoder final : public object_encoder {
public:
  static const chat_encoder& instance();
  int id() const override { return 1; }

protected:
  frame_ptr frame(const open_object& object, const std::string& rid) const override;
};

// What the chat adapter needs from the node; the listener glue implements it.
class chat_binding {
public:
  virtual ~chat_binding() = default;
  // CONNECT to "/": decide from `auth` (see parse_chat_auth), then s.accept("/") and attach
  // a connection actor (outbound: s.engine(), encoder: chat_encoder), or
  // s.refuse("/", message). Now or later, from any thread.
  virtual void connect(session& s, const rapidjson::Value& auth) = 0;
  // The commands decoded from one request body or WebSocket message, in order.
  virtual void commands(std::vector<command>&& batch) = 0;
  // The connection ended.
  virtual void closed(const std::string& reason) = 0;
};

class chat_app final : public app {
public:
  explicit chat_app(std::unique_ptr<chat_binding> binding) : binding_(std::move(binding)) {}
  void on_connect(session& s, const std::string& nsp, const rapidjson::Value& auth) override;
  void on_event(session& s, packet& p, const rapidjson::Value& args) override;
  void on_batch_end(session& s) override;
  void on_close(session& s, const std::string& reason) override;

private:
  std::unique_ptr<chat_binding> binding_;
  std::vector<command> batch_;
};

} // namespace chat::net::sio
