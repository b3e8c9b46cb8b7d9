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
  // Connection-state recovery: what the client remembers of its last connection (see
  // socketio_recovery.hpp); empty when absent.
  std::string pid;
  std::string offset;
  std::string error;
};
chat_auth parse_chat_auth(const rapidjson::Value& auth);

// Encoder id 1: ready-to-write WebSocket text frames holding Engine.IO message packets
// with the objects of object_encoder.hpp: 43<rid>[{...}] for a reply the client asked an
// ack for, else 42["<op>",{...}]. The polling transport sends the same frames' payloads
// (see engineio_packet.hpp).
//
// With connection-state recovery (sio.connection-state-recovery), every `msg` event carries
// its offset as a last argument, 42["msg",{...},"<room>/<seq>"]: the same for every
// recipient (the frame is still written once per room), unique per socket. A node uses one
// of the two instances for all its Socket.IO clients, so both share id 1.
class chat_encoder final : public object_encoder {
public:
  static const chat_encoder& instance();
  static const chat_encoder& with_offsets();
  int id() const override { return 1; }

  // The offset of a room message (see above), as the client sends it back.
  static std::string offset(const std::string& room, uint64_t seq);
  // The end of the frame whose offset is `offset` (the client's string, unescaped):
  // what a recoverable outbound looks for among the frames it sent.
  static std::string offset_suffix(std::string_view offset);

protected:
  frame_ptr frame(const open_object& object, const std::string& rid) const override;
  frame_ptr msg_frame(const open_object& object, const chat_message& m) const override;

private:
  explicit chat_encoder(bool offsets) : offsets_(offsets) {}
  const bool offsets_;
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
  // The connection ended; `recoverable` when its transport was lost (not a DISCONNECT, a
  // protocol error, a bound or the server): connection-state recovery may keep its state.
  virtual void closed(const std::string& reason, bool recoverable) = 0;
};

class chat_app final : public app {
public:
  explicit chat_app(std::unique_ptr<chat_binding> binding) : binding_(std::move(binding)) {}
  void on_connect(session& s, const std::string& nsp, const rapidjson::Value& auth) override;
  void on_event(session& s, packet& p, const rapidjson::Value& args) override;
  bool on_event_text(session& s, packet& p) override;
  void on_batch_end(session& s) override;
  void on_close(session& s, const std::string& reason) override;

private:
  void queue(command&& c);

  std::unique_ptr<chat_binding> binding_;
  std::vector<command> batch_;
};

} // namespace chat::net::sio
