// TLS test helpers (see tls_client.hpp).
#include "support/tls_client.hpp"

#include "support/node_process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <cstdlib>
#include <stdexcept>

namespace chat::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds op_timeout{5000};

// Runs the operations started on `ioc` to completion; `ec` is what they reported.
void finish(asio::io_context& ioc, const beast::error_code& ec, const char* what) {
  ioc.run();
  ioc.restart();
  if (ec)
    throw std::runtime_error(std::string(what) + ": " + ec.message());
}

template <class Stream>
void connect_tls(asio::io_context& ioc, Stream& s, uint16_t port) {
  beast::error_code ec;
  auto& tcp_layer = beast::get_lowest_layer(s);
  tcp_layer.expires_after(op_timeout);
  tcp_layer.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](beast::error_code e) { ec = e; });
  finish(ioc, ec, "connect");
  tcp_layer.expires_after(op_timeout);
  s.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  finish(ioc, ec, "TLS handshake");
}

frame parse_frame(std::string text) {
  frame f;
  f.raw = std::move(text);
  f.doc = std::make_shared<rapidjson::Document>();
  f.doc->Parse(f.raw.c_str());
  if (f.doc->HasParseError() || !f.doc->IsObject())
    throw std::runtime_error("not a JSON object: " + f.raw);
  return f;
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

std::unique_ptr<asio::ssl::context> trusting(const std::string& cert_file) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->load_verify_file(cert_file);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  ctx->set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  return ctx;
}

wss_client::wss_client(uint16_t port, const std::string& query, asio::ssl::context& tls)
  : ws_(ioc_, tls) {
  connect_tls(ioc_, ws_.next_layer(), port);
  beast::error_code ec;
  beast::get_lowest_layer(ws_).expires_after(op_timeout);
  ws_.async_handshake("127.0.0.1:" + std::to_string(port), "/ws?" + query,
                      [&](beast::error_code e) { ec = e; });
  finish(ioc_, ec, "WebSocket handshake");
  hello_ = next_op("hello");
}

wss_client::~wss_client() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void wss_client::send(const std::string& text) {
  beast::error_code ec;
  beast::get_lowest_layer(ws_).expires_after(op_timeout);
  ws_.text(true);
  ws_.async_write(asio::buffer(text), [&](beast::error_code e, size_t) { ec = e; });
  finish(ioc_, ec, "send");
}

frame wss_client::next(ms timeout) {
  beast::error_code ec;
  beast::get_lowest_layer(ws_).expires_after(timeout);
  ws_.async_read(buffer_, [&](beast::error_code e, size_t) { ec = e; });
  finish(ioc_, ec, "read");
  auto text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  return parse_frame(std::move(text));
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

namespace {

https_answer https_exchange(uint16_t port, asio::ssl::context& tls,
                            http::request<http::string_body> req) {
  asio::io_context ioc;
  beast::ssl_stream<beast::tcp_stream> s(ioc, tls);
  connect_tls(ioc, s, port);
  req.set(http::field::host, "127.0.0.1");
  req.prepare_payload();
  beast::error_code ec;
  beast::get_lowest_layer(s).expires_after(op_timeout);
  http::async_write(s, req, [&](beast::error_code e, size_t) { ec = e; });
  finish(ioc, ec, "HTTPS write");
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::get_lowest_layer(s).expires_after(op_timeout);
  http::async_read(s, buffer, res, [&](beast::error_code e, size_t) { ec = e; });
  finish(ioc, ec, "HTTPS read");
  return {int(res.result_int()), res.body()};
}

} // namespace

https_answer https_post(uint16_t port, asio::ssl::context& tls, const std::string& target,
                        const std::string& body) {
  http::request<http::string_body> req(http::verb::post, target, 11);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  return https_exchange(port, tls, std::move(req));
}

https_answer https_get(uint16_t port, asio::ssl::context& tls, const std::string& target) {
  return https_exchange(port, tls, http::request<http::string_body>(http::verb::get, target, 11));
}

} // namespace chat::test
