// One Socket.IO v5 connection on top of an Engine.IO session: decodes its packets
// (reassembling binary ones), keeps the state of each namespace (CONNECT pending the
// application's answer, connected), hands events and acks of connected namespaces to the
// application and closes the connection on any protocol error (malformed packet, packet
// for a namespace that is not connected, CONNECT twice, ...). When the client leaves its
// last namespace, the connection closes; one that never gets a namespace accepted within
// limits::connect_timeout of its open is closed too.
#pragma once

#include "net/engineio_session.hpp"
#include "net/socketio_packet.hpp"

#include <atomic>
#include <map>

namespace chat::net::sio {

class session;

// The application of one connection (the chat adapter; an echo for conformance tests).
// Called from inside the Engine.IO session's entry points, one call at a time.
class app {
public:
  virtual ~app() = default;
  // CONNECT to `nsp` with its auth payload (null when absent). Answer with s.accept(nsp)
  // or s.refuse(nsp, message), during the call or later from any thread.
  virtual void on_connect(session& s, const std::string& nsp, const rapidjson::Value& auth) = 0;
  // EVENT / BINARY_EVENT on a connected namespace: `args` is [name, ...].
  virtual void on_event(session& s, packet& p, const rapidjson::Value& args) = 0;
  // The same, offered first as text (p.data, unparsed): true when the application took it;
  // false sends it through the parser and on_event.
  virtual bool on_event_text(session&, packet&) { return false; }
  // ACK / BINARY_ACK on a connected namespace.
  virtual void on_ack(session&, packet&, const rapidjson::Value&) {}
  // The client left a connected namespace.
  virtual void on_disconnect(session&, const std::string&) {}
  // After the packets of one request body or WebSocket message.
  virtual void on_batch_end(session&) {}
  // The connection ended.
  virtual void on_close(session& s, const std::string& reason) = 0;
};

class session final : public eio::handler {
public:
  session(eio::session& engine, limits lim, std::unique_ptr<app> application);

  // Any thread.
  // CONNECT {"sid"} (a new random sid), or {"sid","pid"} with the given ones (connection-
  // state recovery). False when the namespace was not waiting for its answer.
  bool accept(const std::string& nsp, const std::string& sid = {}, const std::string& pid = {});
  void refuse(const std::string& nsp, const std::string& message); // CONNECT_ERROR {"message"}
  bool send(const packet& p);
  void disconnect(const std::string& nsp); // DISCONNECT, then close when it was the last
  bool connected(const std::string& nsp) const;
  eio::session& engine() { return engine_; }
  app& application() { return *app_; }
  const limits& packet_limits() const { return lim_; }

  // eio::handler
  void on_message(eio::session& s, std::string_view data, bool binary) override;
  void on_batch_end(eio::session& s) override;
  void on_close(eio::session& s, const std::string& reason) override;
  eio::clock::time_point deadline() const override;
  void on_deadline(eio::session& s, eio::clock::time_point now) override;

private:
  class dispatcher;
  void dispatch(packet& p, const rapidjson::Value& payload);
  bool dispatch_event_text(packet& p);
  void protocol_error(const std::string& what);

  eio::session& engine_;
  limits lim_;
  std::unique_ptr<app> app_;
  decoder decoder_;
  bool failed_ = false; // a protocol error closed the connection (entry-serialized)
  std::atomic<bool> accepted_once_{false}; // a namespace was accepted: no connect timeout
  enum class ns_state { pending, connected };
  mutable std::mutex mtx_;
  std::map<std::string, ns_state> nsps_;
};

// The handler factory an Engine.IO server needs for Socket.IO sessions.
using app_factory = std::function<std::unique_ptr<app>()>;
std::function<std::unique_ptr<eio::handler>(eio::session&)> make_handler_factory(limits lim,
                                                                                app_factory make_app);

} // namespace chat::net::sio
