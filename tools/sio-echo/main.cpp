// sio-echo: a conformance server for the Engine.IO / Socket.IO reference test suites, built
// on the node's own protocol code (net/engineio_*, net/socketio_*) and network boundary
// (listener, http_session, route_table, engineio_route), without actors or storage.
// Raw Engine.IO echo at /engine.io/, the Socket.IO echo app (echo_apps.hpp) at /socket.io/,
// with the reference suites' timings: pingInterval 300 ms, pingTimeout 200 ms,
// maxPayload 1000000. Prints "listening port=N" once it accepts connections.
#include "echo_apps.hpp"

#include "actors/stats.hpp"
#include "config/log.hpp"
#include "net/engineio_route.hpp"
#include "net/http_session.hpp"
#include "net/listener.hpp"
#include "net/route_table.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>

#include <iostream>

using namespace chat;

namespace {

net::engineio_options echo_options() {
  net::engineio_options o;
  o.limits.ping_interval = std::chrono::milliseconds(300);
  o.limits.ping_timeout = std::chrono::milliseconds(200);
  o.limits.max_payload = 1000000;
  o.websocket.max_frame_bytes = o.limits.max_payload;
  o.websocket.idle_timeout = std::chrono::milliseconds(60000);
  o.origins = net::allowed_origins({"*"});
  return o;
}

} // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  uint16_t port = 3000;
  size_t threads = 1;
  std::string log_level = "info";
  CLI::App app{"Engine.IO / Socket.IO echo server for the protocol's reference test suites"};
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "port to listen on (0: any free port)")->capture_default_str();
  app.add_option("--threads", threads, "network threads")->check(CLI::Range(1, 64))
    ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (stderr)")
    ->check([](const std::string& v) {
      return logging::valid_level(v) ? std::string() : "not a log level: " + v;
    })
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  logging::init(log_level); // stderr: stdout carries only the "listening" line

  node_counters counters;
  net::io_pool pool(threads, std::chrono::milliseconds(100));
  net::engineio_endpoint engineio(echo_options(), [](net::eio::session&) {
    return std::make_unique<sio_echo::engineio_echo>();
  }, counters);
  net::engineio_endpoint socketio(echo_options(), net::sio::make_handler_factory(
    net::sio::limits{}, [] { return std::make_unique<sio_echo::socketio_echo>(); }), counters);

  net::route_table routes;
  routes.add("/engine.io/", engineio.route());
  routes.add("/socket.io/", socketio.route());
  net::http_limits http;
  http.body_limit = echo_options().limits.max_payload; // maxPayload bounds a polling body
  net::http_counters http_errors;
  net::listener_counters accepts;
  net::listener listener(
    "client", *pool.workers()[0], [&pool]() -> net::io_worker& { return pool.next(); },
    [&](net::asio::ip::tcp::socket s, net::io_worker& w) {
      std::make_shared<net::http_session>(std::move(s), w, routes, http, http_errors)->run();
    },
    accepts);
  net::asio::ip::tcp::endpoint bound;
  try {
    bound = listener.bind(host, port, "sio-echo");
  } catch (const std::exception& e) {
    std::cerr << "sio-echo: " << e.what() << "\n";
    return 1;
  }
  net::asio::io_context signals_ctx;
  net::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([](boost::system::error_code, int) {});
  listener.start();
  pool.start();
  std::cout << "listening port=" << bound.port() << std::endl;
  signals_ctx.run();

  listener.stop();
  engineio.shutdown("going away");
  socketio.shutdown("going away");
  pool.stop();
  engineio.force_close("going away");
  socketio.force_close("going away");
  return 0;
}
