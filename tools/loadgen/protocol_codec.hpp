// The protocol seam: everything that depends on the wire format of frames. The connection
// logic only sees these calls, so a Socket.IO codec (Engine.IO framing, events with
// acknowledgements) can be added beside the native JSON one without touching it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "options.hpp"

namespace chat::loadgen {

// One decoded server frame; only the fields the load generator uses.
struct event {
  enum class kind { other, invalid, joined, msg, ack, error };
  kind type = kind::other;
  std::string_view room;
  std::string_view text;    // msg
  std::string_view cid;     // msg, ack
  std::string_view code;    // error
  std::string_view message; // error
  uint64_t seq = 0;         // msg, ack, joined
  bool has_seq = false;
  std::string_view reply;   // a frame the connection must send back (a Socket.IO pong)
};

class protocol_codec {
public:
  virtual ~protocol_codec() = default;

  // HTTP target of the WebSocket upgrade for `user`.
  virtual std::string target(std::string_view user) const = 0;
  // The frame a connection sends first after the upgrade, before its join; false: none.
  virtual bool encode_greeting(std::string&, std::string_view /*user*/) { return false; }
  // Each encoder replaces the contents of `out` (its capacity is reused).
  virtual void encode_join(std::string& out, std::string_view room) = 0;
  virtual void encode_send(std::string& out, std::string_view room, std::string_view text,
                           std::string_view cid, ack_mode ack) = 0;
  // Decodes one text frame. The views in the result stay valid until the next call.
  virtual event parse(std::string_view frame) = 0;
};

// The native JSON protocol of PROTOCOL.md. One instance per thread.
std::unique_ptr<protocol_codec> make_native_codec();
// Socket.IO over Engine.IO's WebSocket transport (no polling), the same ops as events.
std::unique_ptr<protocol_codec> make_socketio_codec();
std::unique_ptr<protocol_codec> make_codec(protocol proto);

} // namespace chat::loadgen
