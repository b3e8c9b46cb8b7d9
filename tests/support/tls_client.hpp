// Test helpers for TLS on the client listener: a self-signed certificate made with the
// openssl command line, and clients that verify the node against it — a WebSocket client
// of the native protocol (wss) and one HTTPS POST. Every operation has a timeout.
#pragma once

#include "support/ws_client.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <string>

namespace chat::test {

// A certificate for 127.0.0.1 and its key, in a new temporary directory.
struct self_signed_cert {
  self_signed_cert();
  std::string dir, cert, key;
};

// A client TLS context that trusts only `cert_file` and checks the name 127.0.0.1.
std::unique_ptr<boost::asio::ssl::context> trusting(const std::string& cert_file);

class wss_client {
public:
  using ms = std::chrono::milliseconds;

  // wss://127.0.0.1:port/ws?query through `tls`; reads the hello frame. Throws on failure.
  wss_client(uint16_t port, const std::string& query, boost::asio::ssl::context& tls);
  ~wss_client();

  void send(const std::string& text);
  // The next frame; throws on timeout or close.
  frame next(ms timeout = ms(5000));
  // The next frame with this op, skipping others; throws on timeout or close.
  frame next_op(const std::string& op, ms timeout = ms(5000));
  const frame& hello() const { return hello_; }

private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>> ws_;
  boost::beast::flat_buffer buffer_;
  frame hello_;
};

struct https_answer {
  int status = 0;
  std::string body;
};
// POST `body` (JSON) to https://127.0.0.1:port`target` through `tls`. Throws on failure.
https_answer https_post(uint16_t port, boost::asio::ssl::context& tls, const std::string& target,
                        const std::string& body);
// GET https://127.0.0.1:port`target` through `tls`. Throws on failure.
https_answer https_get(uint16_t port, boost::asio::ssl::context& tls, const std::string& target);

} // namespace chat::test
