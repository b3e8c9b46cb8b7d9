// Engine.IO v4 packets on both transports, independent of sockets.
//
// WebSocket: one packet per message; a text message is "<type digit><data>", a binary
// message is a binary `message` packet without prefix.
// HTTP long-polling: a payload is records separated by the record separator 0x1e; a text
// record is a packet as above, a binary message is 'b' + base64 of its bytes.
//
// Server packets are kept as whole, ready-to-write WebSocket frames (frame_ptr, header
// included), so one encoding serves both transports: the WebSocket transport writes the
// frame as it is, the polling transport turns it into a record (append_polling_record:
// a text frame's payload as it is, a binary frame's payload as 'b' + base64).
#pragma once

#include "actors/wire.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::net::eio {

enum class packet_type : uint8_t { open = 0, close, ping, pong, message, upgrade, noop };

constexpr char record_separator = '\x1e';

struct packet {
  packet_type type = packet_type::message;
  bool binary = false; // a binary message: `data` holds raw bytes
  std::string data;
};

// A text packet "<digit><data>" (a WebSocket text message or a polling record).
bool decode_text_packet(std::string_view text, packet& out);

enum class payload_error { none, empty_record, too_many_packets, bad_packet, bad_base64 };
const char* to_string(payload_error e);

// A polling request body into packets; at most `max_packets` of them. The body must be
// valid UTF-8 (checked by the caller, it is checked once per body).
payload_error decode_payload(std::string_view body, size_t max_packets, std::vector<packet>& out);

// The polling payload of packets (tests, fuzzing; the session encodes from frames).
std::string encode_payload(const std::vector<packet>& packets);

// Server frames.
frame_ptr make_frame(packet_type type, std::string_view data = {});
frame_ptr make_binary_frame(std::string_view bytes);

// The payload of a server frame made by this project (unmasked, unfragmented).
struct frame_view {
  bool binary = false;
  std::string_view payload;
};
frame_view view_frame(const std::string& frame);

// Appends the polling record of a server frame to `body`, after a separator when `body`
// is not empty. The size it adds is polling_record_size(frame) (+1 for the separator).
void append_polling_record(std::string& body, const std::string& frame);
size_t polling_record_size(const std::string& frame);

std::string base64_encode(std::string_view bytes);
bool base64_decode(std::string_view text, std::string& out);

// Engine.IO's HTTP errors: JSON {"code","message"} with their HTTP status.
enum class http_error : int { transport_unknown = 0, session_unknown = 1,
                              bad_handshake_method = 2, bad_request = 3, forbidden = 4,
                              unsupported_protocol_version = 5 };

struct http_answer {
  int status = 200;
  std::string content_type;
  std::string body;
};

http_answer error_answer(http_error e, int status = 0); // 0: the code's usual status
http_answer payload_answer(std::string body);          // 200, text/plain; charset=UTF-8
http_answer ok_answer();                                // a POST's 200 "ok"

// A random session or socket id: 20 URL-safe characters (15 bytes from libsodium).
std::string random_id();

} // namespace chat::net::eio
