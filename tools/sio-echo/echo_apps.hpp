// What the conformance server (sio-echo) does with its sessions, on top of the project's
// transport-independent Engine.IO and Socket.IO code: a raw Engine.IO echo, and the
// Socket.IO behaviour the protocol's reference test suites expect (see main.cpp).
#pragma once

#include "net/socketio_session.hpp"

#include <memory>

namespace chat::sio_echo {

// Engine.IO: every message goes back as it came (text or binary).
class engineio_echo final : public net::eio::handler {
public:
  void on_message(net::eio::session& s, std::string_view data, bool binary) override;
  void on_close(net::eio::session&, const std::string&) override {}
};

// Socket.IO: namespaces "/" and "/custom" (others refused with "Invalid namespace"); on
// connect it emits `auth` with the handshake auth as sent ({} when absent); event `message`
// comes back as `message-back`, `message-with-ack` is acked with its own arguments
// (binary attachments included in both).
class socketio_echo final : public net::sio::app {
public:
  void on_connect(net::sio::session& s, const std::string& nsp,
                  const rapidjson::Value& auth) override;
  void on_event(net::sio::session& s, net::sio::packet& p, const rapidjson::Value& args) override;
  void on_close(net::sio::session&, const std::string&) override {}
};

// The JSON array `head` followed by args[1..] (an event's arguments without its name);
// `head` is a JSON value's text or empty.
std::string rest_of_args(const rapidjson::Value& args, const std::string& head);

} // namespace chat::sio_echo
