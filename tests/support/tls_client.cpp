// TLS test helpers (see tls_client.hpp).
#include "support/tls_client.hpp"

#include "support/node_process.hpp"

#include <openssl/ssl.h>

#include <cstdlib>
#include <stdexcept>

namespace chat::test {

namespace {

frame parse_frame(std::string text) {
  frame f;
  f.raw = std::move(text);
  f.doc = std::make_shared<rapidjson::Document>();
  f.doc->Parse(f.raw.c_str());
  if (f.doc->HasParseError() || !f.doc->IsObject())
    throw std::runtime_error("not a JSON object: " + f.raw);
  return f;
}

https_answer https_exchange(uint16_t port, ssl_ctx_st& tls, const std::string& request) {
  raw_socket s(port, &tls);
  if (!s.send(request))
    throw std::runtime_error("HTTPS write failed");
  auto response = s.read_response(std::chrono::milliseconds(5000));
  if (response.empty())
    throw std::runtime_error("no HTTPS response within 5 s");
  return {status_of(response), response.substr(response.find("\r\n\r\n") + 4)};
}

} // namespace

self_signed_cert::self_signed_cert() : dir(make_temp_dir()) {
  cert = dir + "/cert.pem";
  key = dir + "/key.pem";
  auto cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
             " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "
             + key + " -out " + cert + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("openssl req failed: " + cmd);
}

std::shared_ptr<ssl_ctx_st> trusting(const std::string& cert_file) {
  std::shared_ptr<ssl_ctx_st> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), cert_file.c_str(), nullptr) != 1)
    throw std::runtime_error("cannot load " + cert_file);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

wss_client::wss_client(uint16_t port, const std::string& query, ssl_ctx_st& tls)
  : ws_(port, query, {}, &tls), hello_(parse_frame(ws_.hello())) {
}

void wss_client::send(const std::string& text) {
  if (!ws_.write(client_frame(0x81, text)))
    throw std::runtime_error("send: the connection is gone");
}

frame wss_client::next(ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    auto f = ws_.next(std::max(left, ms(1)));
    if (f.opcode == 8)
      throw std::runtime_error("closed by the server, code " + std::to_string(f.close_code()));
    if (f.opcode == 1)
      return parse_frame(std::move(f.payload));
  }
}

frame wss_client::next_op(const std::string& op, ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    if (left <= ms(0))
      throw std::runtime_error("no '" + op + "' frame within the timeout");
    auto f = next(left);
    if (f.op() == op)
      return f;
  }
}

https_answer https_post(uint16_t port, ssl_ctx_st& tls, const std::string& target,
                        const std::string& body) {
  return https_exchange(port, tls,
                        "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\nContent-Length: "
                        + std::to_string(body.size()) + "\r\n\r\n" + body);
}

https_answer https_get(uint16_t port, ssl_ctx_st& tls, const std::string& target) {
  return https_exchange(port, tls, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

} // namespace chat::test
