// WebSocket framing (RFC 6455) owned by the node, so a session can gather many queued
// frames into one write: encoding of unmasked server frames and an incremental parser of
// masked client frames that answers every violation with the close code RFC 6455 names.
#pragma once

#include "net/unicode.hpp"

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
// A close frame; `reason` is cut to 123 bytes on a character boundary.
std::string encode_close(uint16_t code, std::string_view reason);

// Close codes an endpoint may put on the wire (RFC 6455 7.4 and the IANA registry).
bool sendable_close_code(uint16_t code);

// Parses client frames. Feed it bytes as they arrive, in any pieces: it unmasks them in
// place, hands out each complete message and control frame, and keeps only what an
// incomplete frame or fragmented message needs (never more than the message bound plus
// one control frame). Every length is checked before it is used; a message over the
// bound is refused from its header, before any of its payload is read.
class ws_parser {
public:
  struct handler {
    virtual ~handler() = default;
    // A whole data message: text (valid UTF-8) or binary, at most the bound in size.
    // The view is valid during the call only.
    virtual void on_message(ws_opcode op, std::string_view payload) = 0;
    virtual void on_ping(std::string_view payload) = 0;
    virtual void on_pong(std::string_view payload) = 0;
    // A well-formed close frame (`code` 1005 when it carried none). The parser stops.
    virtual void on_close(uint16_t code, std::string_view reason) = 0;
    // A violation: close the connection with `code` (1002, 1007 or 1009). The parser stops.
    virtual void on_protocol_error(uint16_t code, const char* reason) = 0;
  };

  explicit ws_parser(uint64_t max_message) : max_message_(max_message) {}

  // Parses `data` (unmasking it in place) and returns the bytes consumed: all of them,
  // unless the parser stopped on a close frame or a violation, after which it consumes
  // nothing more. `now` is any clock value; see incomplete_since.
  size_t feed(char* data, size_t size, handler& h, int64_t now = 0);

  bool stopped() const { return stage_ == stage::stopped; }
  bool failed() const { return failed_; }
  // The `now` of the feed in which the frame (or the fragmented message) still incomplete
  // began; -1 between messages.
  int64_t incomplete_since() const { return since_; }
  // Bytes held for an incomplete frame or fragmented message.
  size_t buffered() const { return message_.size() + control_.size() + header_len_; }

private:
  enum class stage : uint8_t { header, payload, stopped };
  static constexpr size_t max_header = 14;

  size_t take_header(const unsigned char* p, size_t avail, handler& h);
  // Checks what the first two header bytes say; false (and stopped) on a violation.
  bool check_start(unsigned char first, unsigned char second, handler& h);
  void start_frame(const unsigned char* header, handler& h);
  void unmask(char* data, size_t n);
  size_t take_payload(char* data, size_t avail, handler& h);
  void control_frame(std::string_view payload, handler& h);
  void close_frame(std::string_view payload, handler& h);
  void frame_done();
  void stop();
  bool fail(handler& h, uint16_t code, const char* reason);

  uint64_t max_message_;
  stage stage_ = stage::header;
  bool failed_ = false;
  int64_t since_ = -1;
  // The frame under way.
  unsigned char header_[max_header];
  uint8_t header_len_ = 0; // header bytes kept from an earlier feed
  bool fin_ = false;
  ws_opcode op_ = ws_opcode::text;
  unsigned char mask_[4] = {};
  uint8_t mask_at_ = 0;    // payload bytes unmasked so far, modulo 4
  uint64_t remaining_ = 0; // payload bytes still to come
  std::string control_;    // an incomplete control frame (at most 125 bytes)
  // The data message under way.
  bool fragmented_ = false; // a non-final data frame arrived; its continuation is due
  ws_opcode message_op_ = ws_opcode::text;
  std::string message_;     // payload so far of a message that did not arrive in one piece
  utf8_validator utf8_;
};

} // namespace chat::net
