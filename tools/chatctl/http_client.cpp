// The HTTP client: resolve, connect, write, read as an async chain on a private
// io_context that is run for at most the timeout, so no step can hang.
#include "http_client.hpp"

#include "errors.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>


namespace chat::chatctl {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

enum class stage { resolve, connect, write, read, done };

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

} // namespace

http_response http_request(const endpoint& ep, const std::string& method,
                           const std::string& target, std::chrono::milliseconds timeout,
                           const std::string& json_body) {
  auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown)
    throw chatctl_error("unknown HTTP method '" + method + "'");

  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  tcp::socket socket(ioc);
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, ep.text());
  req.set(http::field::user_agent, "chatctl");
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (!json_body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = json_body;
  }
  req.prepare_payload();
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t(1) << 30);

  stage at = stage::resolve;
  error_code failure;
  auto fail = [&](error_code ec) {
    failure = ec;
    error_code ignored;
    socket.close(ignored);
  };

  resolver.async_resolve(
      ep.host, std::to_string(ep.port), [&](error_code ec, tcp::resolver::results_type found) {
        if (ec)
          return fail(ec);
        at = stage::connect;
        asio::async_connect(socket, found, [&](error_code ec, const tcp::endpoint&) {
          if (ec)
            return fail(ec);
          at = stage::write;
          http::async_write(socket, req, [&](error_code ec, std::size_t) {
            if (ec)
              return fail(ec);
            at = stage::read;
            http::async_read(socket, buffer, parser, [&](error_code ec, std::size_t) {
              if (ec)
                return fail(ec);
              at = stage::done;
              error_code ignored;
              socket.close(ignored);
            });
          });
        });
      });

  ioc.run_for(timeout);
  bool timed_out = at != stage::done && !failure;
  if (!ioc.stopped()) {
    resolver.cancel();
    error_code ignored;
    socket.close(ignored);
    ioc.restart();
    ioc.run();
  }

  auto where = ep.text();
  if (timed_out) {
    if (at == stage::resolve || at == stage::connect)
      throw chatctl_error("cannot reach admin endpoint " + where + ": timed out after "
                          + seconds_text(timeout));
    throw chatctl_error("admin endpoint " + where + " did not answer within "
                        + seconds_text(timeout));
  }
  if (failure) {
    if (at == stage::resolve || at == stage::connect)
      throw chatctl_error("cannot reach admin endpoint " + where + ": " + failure.message());
    if (at == stage::write)
      throw chatctl_error("admin endpoint " + where + " dropped the request: " + failure.message());
    throw chatctl_error("admin endpoint " + where + " sent no valid HTTP answer: "
                        + failure.message());
  }
  auto& res = parser.get();
  return {static_cast<int>(res.result_int()), res.body()};
}

} // namespace chat::chatctl
