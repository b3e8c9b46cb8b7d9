// Command-line options of chat-loadgen and their parsing/validation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chat::loadgen {

enum class ack_mode { seq, persisted };
enum class protocol { native, socketio }; // --proto native|sio

struct options {
  std::string host = "127.0.0.1";
  std::vector<uint16_t> ports; // connection i uses one of these, see fleet.cpp
  std::size_t conns = 100;
  std::size_t rooms = 10;
  std::string room_prefix = "r";
  std::size_t senders = 10;
  double rate = 1000;     // messages per second over all senders
  double warmup = 5;      // seconds
  double duration = 30;   // measured seconds
  double drain = 2;       // seconds after the window for measured messages to arrive
  std::size_t size = 64;  // bytes of message text
  ack_mode ack = ack_mode::seq;
  unsigned threads = 1;
  std::size_t connect_concurrency = 200;
  double connect_timeout = 10; // seconds for connect + upgrade + join of one connection
  bool json = false;
  bool idle = false;
  protocol proto = protocol::native;
};

const char* to_string(ack_mode mode);

// Parses and validates argv. Returns the process exit code when the program must stop
// (after --help: 0, after an error: non-zero, the message already printed).
std::optional<int> parse_options(int argc, char** argv, options& out);

} // namespace chat::loadgen
