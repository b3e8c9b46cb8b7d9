// Command-line options of chat-loadgen: definitions, defaults and cross-checks (CLI11).
#include "options.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace chat::loadgen {

const char* to_string(ack_mode mode) {
  return mode == ack_mode::persisted ? "persisted" : "seq";
}

namespace {

// Checks that CLI11 cannot express; returns an error message or an empty string.
std::string cross_check(const options& o) {
  if (o.ports.empty())
    return "one of --port or --ports is required";
  for (uint16_t p : o.ports)
    if (p == 0)
      return "ports must be in 1..65535";
  if (o.senders > o.conns)
    return "--senders must not exceed --conns";
  if (!o.idle && o.senders == 0)
    return "--senders must be at least 1 (or use --idle)";
  if (o.threads > o.conns)
    return "--threads must not exceed --conns";
  return {};
}

} // namespace

std::optional<int> parse_options(int argc, char** argv, options& out) {
  CLI::App app{"Load generator for the chat server: N WebSocket clients in R rooms, S of them "
               "sending at a fixed total rate (open loop); reports throughput, delivery, order "
               "and end-to-end latency."};
  app.name("chat-loadgen");
  app.get_formatter()->column_width(34);

  uint16_t port = 0;
  std::string ack = "seq";
  std::string proto = "native";

  app.add_option("--host", out.host, "Server host name or address")->capture_default_str();
  auto* port_opt = app.add_option("--port", port, "Server port")->check(CLI::Range(1, 65535));
  auto* ports_opt = app.add_option("--ports", out.ports,
                                   "Comma-separated ports of several nodes; connections are "
                                   "spread over them")
                        ->delimiter(',');
  port_opt->excludes(ports_opt);
  app.add_option("--conns", out.conns, "Connections (users u0..u<N-1>)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--rooms", out.rooms, "Rooms; connection i joins room <prefix><i % rooms>")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--room-prefix", out.room_prefix, "Prefix of room names")->capture_default_str();
  app.add_option("--senders", out.senders,
                 "Sending connections (u0..u<S-1>, hence spread evenly over the rooms)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rate", out.rate, "Total messages per second over all senders")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", out.warmup, "Seconds of sending before the measurement")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", out.duration,
                 "Measured seconds (with --idle: seconds to hold the connections)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--drain", out.drain,
                 "Seconds after the measurement for its messages to arrive")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--size", out.size, "Bytes of message text (at least the time stamp)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_option("--ack", ack, "Acknowledgement requested for each send")
      ->capture_default_str()
      ->check(CLI::IsMember({"persisted", "seq"}));
  app.add_option("--threads", out.threads, "I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--connect-concurrency", out.connect_concurrency,
                 "Connections being opened at the same time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--connect-timeout", out.connect_timeout,
                 "Seconds allowed for connect, upgrade and join of one connection")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--proto", proto, "Client protocol: native (/ws) or sio (Socket.IO over WebSocket)")
    ->check(CLI::IsMember({"native", "sio"}))
    ->capture_default_str();
  app.add_flag("--json", out.json, "Print the final result as one JSON object on stdout");
  app.add_flag("--idle", out.idle,
               "Connect and join, print \"connected N\", hold for --duration without sending");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (port != 0)
    out.ports = {port};
  out.ack = ack == "persisted" ? ack_mode::persisted : ack_mode::seq;
  out.proto = proto == "sio" ? protocol::socketio : protocol::native;
  if (auto error = cross_check(out); !error.empty()) {
    std::cerr << "chat-loadgen: " << error << "\nRun with --help for more information.\n";
    return 2;
  }
  return std::nullopt;
}

} // namespace chat::loadgen
