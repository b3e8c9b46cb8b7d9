// WebSocket framing (RFC 6455) owned by the node, so a session can gather many queued
// frames into one write: encoding of unmasked server frames and an incremental parser of
// masked client frames with a message size bound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::net {

enum class ws_opcode : uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9,
                                 pong = 10 };

// A whole server frame (FIN set, unmasked) holding `payload`.
std::string encode_frame(ws_opcode op, std::string_view payload);
// Appends the header of a server frame of `length` bytes to `out`.
void append_frame_header(std::string& out, ws_opcode op, uint64_t length);
std::string encode_close(uint16_t code, std::string_view reason);

// Parses client frames. Feed it bytes; it calls the handler for each complete message and
// control frame and tells how many bytes it consumed (the rest is an incomplete frame).
class ws_parser {
public:
  struct handler {
    virtual ~handler() = default;
    virtual void on_message(ws_opcode op, std::string_view payload) = 0;
    virtual void on_control(ws_opcode op, std::string_view payload) = 0;
    // A message over the size bound; its bytes are skipped and parsing goes on.
    virtual void on_too_large(uint64_t size) = 0;
    // A protocol violation: the connection must be closed with `code`.
    virtual void on_protocol_error(uint16_t code, const char* reason) = 0;
  };

  explicit ws_parser(uint64_t max_message) : max_message_(max_message) {}

  // Returns the number of bytes consumed from `data`. Stops after a protocol error.
  size_t feed(char* data, size_t size, handler& h);
  bool failed() const { return failed_; }
  // Bytes of an oversize frame still to skip (they need no buffering).
  uint64_t skipping() const { return skip_; }

private:
  uint64_t max_message_;
  std::string fragments_;     // payload of a fragmented message so far
  ws_opcode fragment_op_ = ws_opcode::text;
  bool in_fragmented_ = false;
  bool discarding_message_ = false; // rest of an oversize fragmented message
  uint64_t skip_ = 0;
  bool failed_ = false;
};

} // namespace chat::net
