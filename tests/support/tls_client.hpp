// Test helpers for TLS on the client listener: a self-signed certificate made with the
// openssl command line, and clients that verify the node against it — a WebSocket client
// of the native protocol (wss) and HTTPS requests. OpenSSL is used directly on a raw
// socket (support/raw_socket): the same clients through Beast's templated TLS streams took
// minutes of CPU to compile, far more than they test. Every operation has a timeout.
#pragma once

#include "support/raw_ws.hpp"
#include "support/ws_client.hpp"

#include <memory>
#include <string>

namespace chat::test {

// A certificate for 127.0.0.1 and its key, in a new temporary directory.
struct self_signed_cert {
  self_signed_cert();
  std::string dir, cert, key;
};

// A client TLS context that trusts only `cert_file`; connections through it check the
// name 127.0.0.1.
std::shared_ptr<ssl_ctx_st> trusting(const std::string& cert_file);

class wss_client {
public:
  using ms = std::chrono::milliseconds;

  // wss://127.0.0.1:port/ws?query through `tls`; reads the hello frame. Throws on failure.
  wss_client(uint16_t port, const std::string& query, ssl_ctx_st& tls);

  void send(const std::string& text);
  // The next text frame; throws on timeout or close.
  frame next(ms timeout = ms(5000));
  // The next frame with this op, skipping others; throws on timeout or close.
  frame next_op(const std::string& op, ms timeout = ms(5000));
  const frame& hello() const { return hello_; }

private:
  raw_ws ws_;
  frame hello_;
};

struct https_answer {
  int status = 0;
  std::string body;
};
// POST `body` (JSON) to https://127.0.0.1:port`target` through `tls`. Throws on failure.
https_answer https_post(uint16_t port, ssl_ctx_st& tls, const std::string& target,
                        const std::string& body);
// GET https://127.0.0.1:port`target` through `tls`. Throws on failure.
https_answer https_get(uint16_t port, ssl_ctx_st& tls, const std::string& target);

} // namespace chat::test
