// PROTOTYPE for the parser A/B measurement only: ws_parser on libwslay's event API.
#ifdef CHAT_WS_WSLAY
#include "net/ws_frame.hpp"

#include <wslay/wslay.h>

#include <algorithm>
#include <cstring>

namespace chat::net {

namespace {

ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t* buf, size_t len, int, void* self) {
  auto n = static_cast<ws_parser*>(self)->read_input(buf, len);
  if (n == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  return n;
}

ssize_t send_cb(wslay_event_context_ptr, const uint8_t* data, size_t len, int, void* self) {
  static_cast<ws_parser*>(self)->out_.append(reinterpret_cast<const char*>(data), len);
  return ssize_t(len);
}

void start_cb(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* a, void* self) {
  static_cast<ws_parser*>(self)->frame_start(a->fin, a->opcode);
}

void end_cb(wslay_event_context_ptr, void* self) { static_cast<ws_parser*>(self)->frame_end(); }

void msg_cb(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* a, void* self) {
  static_cast<ws_parser*>(self)->message(a->opcode, a->msg, a->msg_length, a->status_code);
}

} // namespace

ws_parser::ws_parser(uint64_t max_message) {
  wslay_event_callbacks cb{recv_cb, send_cb, nullptr, start_cb, nullptr, end_cb, msg_cb};
  wslay_event_context_server_init(&ctx_, &cb, this);
  wslay_event_config_set_max_recv_msg_length(ctx_, max_message);
}

ws_parser::~ws_parser() { wslay_event_context_free(ctx_); }

long ws_parser::read_input(unsigned char* buf, size_t len) {
  size_t n = std::min(len, in_left_);
  std::memcpy(buf, in_, n);
  in_ += n;
  in_left_ -= n;
  return long(n);
}

void ws_parser::frame_start(bool fin, uint8_t opcode) {
  if (since_ < 0)
    since_ = now_;
  frame_fin_ = fin;
  frame_control_ = opcode & 8;
}

void ws_parser::frame_end() {
  if (!frame_control_)
    fragmented_ = !frame_fin_;
  if (!fragmented_)
    since_ = -1;
}

void ws_parser::message(uint8_t opcode, const unsigned char* msg, size_t len, uint16_t status) {
  std::string_view body(reinterpret_cast<const char*>(msg), len);
  switch (opcode) {
    case WSLAY_TEXT_FRAME: h_->on_message(ws_opcode::text, body); break;
    case WSLAY_BINARY_FRAME: h_->on_message(ws_opcode::binary, body); break;
    case WSLAY_PING: h_->on_ping(body); break;
    case WSLAY_PONG: h_->on_pong(body); break;
    case WSLAY_CONNECTION_CLOSE:
      got_close_ = true;
      close_code_ = status ? status : 1005;
      close_reason_.assign(body.size() > 2 ? body.substr(2) : std::string_view{});
      break;
    default: break;
  }
}

size_t ws_parser::feed(char* data, size_t size, handler& h, int64_t now) {
  if (stopped_)
    return 0;
  h_ = &h;
  in_ = data;
  in_left_ = size;
  now_ = now;
  int rv = wslay_event_recv(ctx_);
  size_t consumed = size - in_left_;
  out_.clear();
  wslay_event_send(ctx_);
  // Pongs wslay queued are dropped (the session answers pings); a close frame it queued
  // answers either the client's close or a violation.
  uint16_t sent = 0;
  bool close_sent = false;
  for (size_t pos = 0; pos + 2 <= out_.size();) {
    auto b = reinterpret_cast<const unsigned char*>(out_.data() + pos);
    size_t len = b[1] & 0x7f, header = 2;
    if (len == 126) {
      len = (size_t(b[2]) << 8) | b[3];
      header = 4;
    }
    if ((b[0] & 0x0f) == 8) {
      close_sent = true;
      sent = len >= 2 ? uint16_t((b[header] << 8) | b[header + 1]) : 1000;
    }
    pos += header + len;
  }
  if (rv != 0 || (close_sent && !got_close_)) {
    stopped_ = failed_ = true;
    since_ = -1;
    h.on_protocol_error(rv != 0 ? 1011 : sent, "violation (wslay)");
  } else if (got_close_) {
    stopped_ = true;
    since_ = -1;
    bool echoed = sent == close_code_ || (close_code_ == 1005 && sent == 1000);
    if (close_sent && !echoed) {
      failed_ = true;
      h.on_protocol_error(sent, "violation (wslay)");
    } else {
      h.on_close(close_code_, close_reason_);
    }
  }
  return consumed;
}

} // namespace chat::net
#endif
