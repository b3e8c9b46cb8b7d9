// A WebSocket client on a raw TCP (or TLS) connection for protocol tests: it writes
// whatever bytes a test builds (frames a conforming client never sends) and reads the
// server's frames one by one, down to the close frame and the end of the TCP connection.
#pragma once

#include "tests/support/client_frames.hpp"
#include "tests/support/raw_socket.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::test {

class raw_ws {
public:
  using ms = std::chrono::milliseconds;

  struct server_frame {
    uint8_t opcode = 0;
    bool fin = false;
    std::string payload;
    // For a close frame: its code (0 when it has none) and reason.
    uint16_t close_code() const;
  };

  // Connects to 127.0.0.1:port (through TLS when given `tls`), upgrades on /ws?query and
  // reads the hello frame; `with_request` is written in the same write as the upgrade
  // request.
  raw_ws(uint16_t port, const std::string& query, std::string_view with_request = {},
         ssl_ctx_st* tls = nullptr);
  raw_ws(const raw_ws&) = delete;
  raw_ws& operator=(const raw_ws&) = delete;

  // Writes all of `bytes`; false when the server closed the connection meanwhile.
  bool write(std::string_view bytes);
  // The next server frame; throws std::runtime_error on timeout or end of the connection.
  server_frame next(ms timeout = ms(5000));
  // Skips frames up to a close frame and returns its code; throws when none comes.
  uint16_t next_close(ms timeout = ms(5000), std::string* reason = nullptr);
  // True when the server ended the TCP connection (end of stream or reset) within
  // `timeout`; bytes that arrive before the end are skipped.
  bool ended_within(ms timeout = ms(5000));
  const std::string& hello() const { return hello_; }

private:
  // Reads more bytes into buf_; false at the end of the connection, throws on timeout.
  bool fill(std::chrono::steady_clock::time_point deadline);

  raw_socket sock_;
  std::string buf_;
  std::string hello_;
};

} // namespace chat::test
