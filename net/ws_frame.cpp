// RFC 6455 frame encoding and parsing.
#include "net/ws_frame.hpp"

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
  payload.append(reason.substr(0, 123));
  return encode_frame(ws_opcode::close, payload);
}

size_t ws_parser::feed(char* data, size_t size, handler& h) {
  size_t pos = 0;
  while (pos < size && !failed_) {
    if (skip_ > 0) {
      auto n = std::min<uint64_t>(skip_, size - pos);
      skip_ -= n;
      pos += n;
      continue;
    }
    auto* p = reinterpret_cast<unsigned char*>(data + pos);
    size_t avail = size - pos;
    if (avail < 2)
      break;
    bool fin = p[0] & 0x80;
    auto op = ws_opcode(p[0] & 0x0f);
    bool masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7f;
    size_t header = 2;
    if (p[0] & 0x70) {
      failed_ = true;
      h.on_protocol_error(1002, "reserved bits set");
      break;
    }
    if (!masked) {
      failed_ = true;
      h.on_protocol_error(1002, "client frames must be masked");
      break;
    }
    if (len == 126) {
      if (avail < 4)
        break;
      len = (uint64_t(p[2]) << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (avail < 10)
        break;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | p[2 + i];
      header = 10;
    }
    header += 4; // mask key
    if (avail < header)
      break;
    bool control = uint8_t(op) & 0x8;
    if (control && (len > 125 || !fin)) {
      failed_ = true;
      h.on_protocol_error(1002, "bad control frame");
      break;
    }
    if (!control && op != ws_opcode::continuation && op != ws_opcode::text
        && op != ws_opcode::binary) {
      failed_ = true;
      h.on_protocol_error(1002, "unknown opcode");
      break;
    }
    if (!control) {
      bool cont = op == ws_opcode::continuation;
      if (cont != in_fragmented_) {
        failed_ = true;
        h.on_protocol_error(1002, cont ? "continuation without a message"
                                       : "new message inside a fragmented one");
        break;
      }
      uint64_t total = (cont ? fragments_.size() : 0) + len;
      if (discarding_message_ || total > max_message_) {
        if (!discarding_message_)
          h.on_too_large(total);
        fragments_.clear();
        discarding_message_ = !fin;
        in_fragmented_ = !fin;
        pos += header;
        skip_ = len;
        continue;
      }
    }
    if (avail < header + len)
      break;
    unsigned char* mask = p + header - 4;
    char* payload = data + pos + header;
    for (uint64_t i = 0; i < len; ++i)
      payload[i] = char(payload[i] ^ mask[i & 3]);
    std::string_view body(payload, len);
    pos += header + len;
    if (control) {
      h.on_control(op, body);
    } else if (!fin) {
      if (!in_fragmented_)
        fragment_op_ = op;
      in_fragmented_ = true;
      fragments_.append(body);
    } else if (in_fragmented_) {
      fragments_.append(body);
      in_fragmented_ = false;
      std::string whole;
      whole.swap(fragments_);
      h.on_message(fragment_op_, whole);
    } else {
      h.on_message(op, body);
    }
  }
  return pos;
}

} // namespace chat::net
