// Raw WebSocket test client over raw_socket: blocking writes, reads with timeouts.
#include "support/raw_ws.hpp"

#include <stdexcept>

namespace chat::test {

uint16_t raw_ws::server_frame::close_code() const {
  if (payload.size() < 2)
    return 0;
  return uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1]));
}

raw_ws::raw_ws(uint16_t port, const std::string& query, std::string_view with_request,
               ssl_ctx_st* tls)
  : sock_(port, tls) {
  write("GET /ws?" + query + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n" + std::string(with_request));
  auto deadline = std::chrono::steady_clock::now() + ms(5000);
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
    if (!fill(deadline))
      throw std::runtime_error("connection ended during the upgrade");
  if (buf_.rfind("HTTP/1.1 101", 0) != 0)
    throw std::runtime_error("upgrade refused: " + buf_.substr(0, end));
  buf_.erase(0, end + 4);
  hello_ = next().payload;
}

bool raw_ws::write(std::string_view bytes) {
  return sock_.send(std::string(bytes));
}

bool raw_ws::fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0)
    throw std::runtime_error("timeout waiting for the server");
  auto got = sock_.receive(left);
  if (sock_.peer_closed())
    return false; // end of stream, or reset
  if (got.empty())
    throw std::runtime_error("timeout waiting for the server");
  buf_ += got;
  return true;
}

raw_ws::server_frame raw_ws::next(ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (buf_.size() >= 2) {
      auto b = reinterpret_cast<const unsigned char*>(buf_.data());
      if (b[1] & 0x80)
        throw std::runtime_error("the server sent a masked frame");
      uint64_t len = b[1] & 0x7f;
      size_t header = 2;
      if (len == 126 && buf_.size() >= 4) {
        len = (uint64_t(b[2]) << 8) | b[3];
        header = 4;
      } else if (len == 127 && buf_.size() >= 10) {
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = (len << 8) | b[2 + i];
        header = 10;
      }
      bool header_known = (b[1] & 0x7f) < 126 || header > 2;
      if (header_known && buf_.size() - header >= len) {
        server_frame f;
        f.fin = b[0] & 0x80;
        f.opcode = b[0] & 0x0f;
        f.payload = buf_.substr(header, size_t(len));
        buf_.erase(0, header + size_t(len));
        return f;
      }
    }
    if (!fill(deadline))
      throw std::runtime_error("the server ended the connection");
  }
}

uint16_t raw_ws::next_close(ms timeout, std::string* reason) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    auto f = next(std::max(left, ms(1)));
    if (f.opcode == 8) {
      if (reason)
        *reason = f.payload.size() > 2 ? f.payload.substr(2) : "";
      return f.close_code();
    }
  }
}

bool raw_ws::ended_within(ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    for (;;) {
      buf_.clear();
      if (!fill(deadline))
        return true;
    }
  } catch (const std::runtime_error&) {
    return false; // timeout
  }
}

} // namespace chat::test
