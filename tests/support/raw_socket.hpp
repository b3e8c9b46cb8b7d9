// A TCP client for tests that must send exactly the bytes they choose (malformed HTTP,
// pipelined requests, slow senders) and observe what comes back, with timeouts; plaintext,
// or TLS through OpenSSL directly when given a client context (see tls_client.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

struct ssl_ctx_st;
struct ssl_st;

namespace chat::test {

class raw_socket {
public:
  using ms = std::chrono::milliseconds;

  // Connects to 127.0.0.1:port, with a TLS handshake through `tls` when given (throws
  // std::runtime_error on failure, a refused certificate included).
  explicit raw_socket(uint16_t port, ssl_ctx_st* tls = nullptr);
  ~raw_socket();
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  // Sends all of `bytes`; false when the peer has gone.
  bool send(const std::string& bytes);
  // Reads what arrives within `timeout`: the bytes, "" on timeout or at the peer's close
  // (which peer_closed() then tells).
  std::string receive(ms timeout);
  bool peer_closed() const { return peer_closed_; }
  // Reads until the peer closes (true) or `timeout` passes (false); the bytes go to `out`.
  bool read_until_closed(ms timeout, std::string* out = nullptr);
  // Reads one HTTP response head and its Content-Length body; "" on timeout or close.
  std::string read_response(ms timeout);
  void close();

private:
  // Appends what arrives before `deadline`; false on timeout or at the peer's close.
  bool read_more(std::string& into, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  std::string pending_; // bytes read past the last response
  bool peer_closed_ = false;
};

// Status code of an HTTP response text ("HTTP/1.1 404 ..." -> 404), 0 when not one.
int status_of(const std::string& response);

} // namespace chat::test
