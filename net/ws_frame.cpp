// RFC 6455 frame encoding and parsing. The parser is a small state machine (header,
// payload, stopped); a frame's payload is unmasked where it lies and handed out without a
// copy when the whole message is in one piece, otherwise gathered into a buffer whose size
// the frame headers bound before a byte of payload is taken.
#include "net/ws_frame.hpp"

#include <algorithm>
#include <cstring>

namespace chat::net {

void append_frame_header(std::string& out, ws_opcode op, uint64_t length) {
  out.push_back(char(0x80 | uint8_t(op)));
  if (length < 126) {
    out.push_back(char(length));
  } else if (length <= 0xffff) {
    out.push_back(char(126));
    out.push_back(char(length >> 8));
    out.push_back(char(length & 0xff));
  } else {
    out.push_back(char(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(char((length >> shift) & 0xff));
  }
}

std::string encode_frame(ws_opcode op, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  append_frame_header(out, op, payload.size());
  out.append(payload);
  return out;
}

std::string encode_close(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(char(code >> 8));
  payload.push_back(char(code & 0xff));
  // A close frame holds 125 bytes; the reason must stay UTF-8 when it is cut (it may end in
  // client text, such as a Socket.IO namespace in a protocol error).
  auto cut = utf8_truncated(reason, 123);
  payload.append(cut.data(), cut.size());
  return encode_frame(ws_opcode::close, payload);
}

bool sendable_close_code(uint16_t code) {
  // 1004 is reserved, 1005, 1006 and 1015 only report what happened locally, 1016..2999
  // are unassigned or reserved for future protocol use, 3000..4999 belong to applications.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
         || (code >= 3000 && code <= 4999);
}

namespace {

bool is_control(ws_opcode op) { return uint8_t(op) & 0x8; }

// Header bytes of a masked frame, known from its second byte.
size_t header_size(unsigned char second) {
  auto len7 = second & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
}

} // namespace

size_t ws_parser::feed(char* data, size_t size, handler& h, int64_t now) {
  size_t pos = 0;
  while (pos < size && stage_ != stage::stopped) {
    if (stage_ == stage::header) {
      if (since_ < 0)
        since_ = now;
      pos += take_header(reinterpret_cast<unsigned char*>(data + pos), size - pos, h);
    } else {
      pos += take_payload(data + pos, size - pos, h);
    }
  }
  return pos;
}

size_t ws_parser::take_header(const unsigned char* p, size_t avail, handler& h) {
  if (header_len_ == 0 && avail >= 2 && avail >= header_size(p[1])) {
    if (check_start(p[0], p[1], h))
      start_frame(p, h);
    return header_size(p[1]);
  }
  // The header is cut between two feeds: gather it (at most 14 bytes).
  size_t used = 0;
  while (used < avail) {
    size_t need = header_len_ < 2 ? 2 : header_size(header_[1]);
    size_t n = std::min(need - header_len_, avail - used);
    std::memcpy(header_ + header_len_, p + used, n);
    header_len_ = uint8_t(header_len_ + n);
    used += n;
    if (header_len_ == 2 && need == 2 && !check_start(header_[0], header_[1], h))
      return used;
    if (header_len_ > 2 && header_len_ == need) {
      header_len_ = 0;
      start_frame(header_, h);
      return used;
    }
  }
  return used;
}

bool ws_parser::check_start(unsigned char first, unsigned char second, handler& h) {
  auto op = ws_opcode(first & 0x0f);
  bool fin = first & 0x80;
  if (first & 0x70)
    return fail(h, 1002, "reserved bits set without a negotiated extension");
  switch (op) {
    case ws_opcode::continuation: case ws_opcode::text: case ws_opcode::binary:
    case ws_opcode::close: case ws_opcode::ping: case ws_opcode::pong:
      break;
    default:
      return fail(h, 1002, "reserved opcode");
  }
  if (!(second & 0x80))
    return fail(h, 1002, "client frame not masked");
  if (is_control(op)) {
    if (!fin)
      return fail(h, 1002, "fragmented control frame");
    if ((second & 0x7f) > 125)
      return fail(h, 1002, "control frame over 125 bytes");
  } else if (op == ws_opcode::continuation && !fragmented_) {
    return fail(h, 1002, "continuation frame without a message to continue");
  } else if (op != ws_opcode::continuation && fragmented_) {
    return fail(h, 1002, "new data frame inside a fragmented message");
  }
  return true;
}

void ws_parser::start_frame(const unsigned char* header, handler& h) {
  uint64_t len = header[1] & 0x7f;
  size_t at = 2;
  if (len == 126) {
    len = (uint64_t(header[2]) << 8) | header[3];
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | header[2 + i];
    at = 10;
    if (len >> 63) {
      fail(h, 1002, "64-bit payload length with its most significant bit set");
      return;
    }
  }
  fin_ = header[0] & 0x80;
  op_ = ws_opcode(header[0] & 0x0f);
  std::memcpy(mask_, header + at, 4);
  mask_at_ = 0;
  remaining_ = len;
  if (!is_control(op_)) {
    // message_ holds the fragments so far (never more than the bound), so this cannot wrap.
    if (len > max_message_ - message_.size()) {
      fail(h, 1009, "message over net.max-frame-bytes");
      return;
    }
    if (op_ != ws_opcode::continuation) {
      message_op_ = op_;
      utf8_.reset();
    }
  }
  stage_ = stage::payload;
  if (len == 0)
    take_payload(nullptr, 0, h);
}

void ws_parser::unmask(char* data, size_t n) {
  unsigned char m[8];
  for (size_t i = 0; i < 8; ++i)
    m[i] = mask_[(mask_at_ + i) & 3];
  uint64_t m64;
  std::memcpy(&m64, m, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= m64;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < n; ++i)
    data[i] = char(data[i] ^ m[i & 7]);
  mask_at_ = uint8_t((mask_at_ + n) & 3);
}

size_t ws_parser::take_payload(char* data, size_t avail, handler& h) {
  size_t n = size_t(std::min<uint64_t>(remaining_, avail));
  if (n > 0)
    unmask(data, n);
  remaining_ -= n;
  if (is_control(op_)) {
    if (remaining_ == 0 && control_.empty()) {
      frame_done();
      control_frame({data, n}, h);
    } else {
      control_.append(data, n); // at most 125 bytes: checked in the header
      if (remaining_ == 0) {
        std::string whole;
        whole.swap(control_);
        frame_done();
        control_frame(whole, h);
      }
    }
    return n;
  }
  if (message_op_ == ws_opcode::text && !utf8_.feed(data, n)) {
    fail(h, 1007, "invalid UTF-8 in a text message");
    return n;
  }
  if (remaining_ > 0 || !fin_) {
    message_.append(data, n); // within the bound: checked in the header
    if (remaining_ == 0)
      frame_done();
    return n;
  }
  if (message_op_ == ws_opcode::text && !utf8_.complete()) {
    fail(h, 1007, "text message ends inside a UTF-8 sequence");
    return n;
  }
  std::string_view whole(data, n);
  if (!message_.empty()) {
    message_.append(data, n);
    whole = message_;
  }
  frame_done();
  h.on_message(message_op_, whole);
  if (message_.capacity() > 4096)
    std::string().swap(message_); // a large message once does not pin its buffer
  else
    message_.clear();
  return n;
}

void ws_parser::frame_done() {
  stage_ = stage::header;
  if (!is_control(op_))
    fragmented_ = !fin_;
  if (!fragmented_)
    since_ = -1;
}

void ws_parser::control_frame(std::string_view payload, handler& h) {
  switch (op_) {
    case ws_opcode::ping: h.on_ping(payload); break;
    case ws_opcode::pong: h.on_pong(payload); break;
    default: close_frame(payload, h); break;
  }
}

void ws_parser::close_frame(std::string_view payload, handler& h) {
  if (payload.size() == 1) {
    fail(h, 1002, "close frame with a 1-byte payload");
    return;
  }
  uint16_t code = 1005;
  if (payload.size() >= 2) {
    code = uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1]));
    if (!sendable_close_code(code)) {
      fail(h, 1002, "close code that must not be sent");
      return;
    }
    payload.remove_prefix(2);
    if (!utf8_valid(payload)) {
      fail(h, 1002, "close reason not valid UTF-8");
      return;
    }
  }
  stop();
  h.on_close(code, payload);
}

void ws_parser::stop() {
  stage_ = stage::stopped;
  since_ = -1;
  std::string().swap(message_);
  std::string().swap(control_);
  header_len_ = 0;
}

bool ws_parser::fail(handler& h, uint16_t code, const char* reason) {
  failed_ = true;
  stop();
  h.on_protocol_error(code, reason);
  return false;
}

} // namespace chat::net
