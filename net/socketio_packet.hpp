// Socket.IO v5 packets: <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>],
// carried in Engine.IO `message` packets. BINARY_EVENT / BINARY_ACK are followed by their
// attachments, one binary Engine.IO message each; the JSON refers to them by
// {"_placeholder":true,"num":N}. Attachments are kept as they came (not substituted).
#pragma once

#include "actors/wire.hpp"

#include <rapidjson/fwd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::net::sio {

enum class packet_type : uint8_t { connect = 0, disconnect, event, ack, connect_error,
                                   binary_event, binary_ack };

struct packet {
  packet_type type = packet_type::event;
  std::string nsp = "/";
  bool has_id = false;
  uint64_t id = 0;
  std::string data; // the JSON payload as text, empty when absent
  std::vector<std::string> attachments;
};

// Bounds on what a client may send, and how long it may take to connect a namespace.
struct limits {
  size_t max_attachments = 10;
  uint64_t max_attachment_bytes = 1000000; // all attachments of one packet together
  size_t max_nsp_bytes = 128;
  size_t max_depth = 32; // nesting of the JSON payload
  // A connection that has no namespace accepted this long after its Engine.IO open is
  // closed (Socket.IO's connectTimeout).
  std::chrono::milliseconds connect_timeout{45000};
};

constexpr uint64_t max_ack_id = (uint64_t(1) << 53) - 1; // what a JavaScript number holds

// Event names a client may not emit (Socket.IO reserves them).
bool reserved_event(std::string_view name);

// The packet's text (without Engine.IO's "4" prefix).
std::string encode(const packet& p);
// The whole server frames: one text frame holding the Engine.IO message, then one binary
// frame per attachment.
std::vector<frame_ptr> encode_frames(const packet& p);

// Decodes the packets of one Engine.IO session, reassembling binary ones.
class decoder {
public:
  struct handler {
    virtual ~handler() = default;
    // A complete packet. `payload` is its parsed JSON (null when absent), valid during the
    // call only.
    virtual void on_packet(packet& p, const rapidjson::Value& payload) = 0;
    // An EVENT, offered as text before any parsing: true when the handler took it (then
    // on_packet is not called). A handler that declines, or finds anything unusual in it,
    // returns false and gets it through on_packet, checked in full.
    virtual bool on_event_text(packet&) { return false; }
  };

  explicit decoder(limits lim) : lim_(lim) {}
  // One Engine.IO message (text: valid UTF-8). Returns "" or the protocol error that must
  // close the session; after an error the decoder must not be used again.
  std::string feed(std::string_view data, bool binary, handler& h);
  bool reconstructing() const { return pending_.has_value(); }

private:
  std::string complete(handler& h);

  limits lim_;
  std::optional<packet> pending_; // a binary packet waiting for its attachments
  size_t expected_ = 0;
  uint64_t attachment_bytes_ = 0;
};

} // namespace chat::net::sio
