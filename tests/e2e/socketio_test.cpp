// End-to-end: the official socket.io-client (tests/sio/driver.mjs, run by Node.js) against
// real chatd processes: both transports and the upgrade, rooms, acks, history, dedupe,
// order, presence/typing/read, reconnect with `since`, native and Socket.IO members in one
// room, hand-made bad Engine.IO / Socket.IO input, CORS, a short heartbeat, persisted acks
// across a kill -9, and tokens from the account API. Skipped (exit 77) only when there is no `node` (scripts/setup.sh
// installs it and the pinned client).
#include "support/auth_client.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/node_script.hpp"
#include "support/sio_driver.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <unistd.h>

using namespace chat::test;

namespace {

script_result run_driver(uint16_t port, const std::string& args) {
  return run_sio_driver(port, args);
}

void require_passed(const script_result& r, const node_process& node) {
  require_sio_passed(r, node);
}

struct skip_without_node {
  skip_without_node() { require_node_or_skip(); }
} const check_node;

} // namespace

TEST_CASE("socket.io-client: every scenario against one node") {
  // 64 KiB bodies (the bad-engineio scenario sends one byte more); one allowed other
  // origin (the cors scenario).
  node_process node({"--security.allow-anonymous=true", "--sio.max-payload=64KiB",
                     "--net.allowed-origins=https://app.example"});
  auto r = run_driver(node.port(), "--scenario all");
  std::cout << r.output;
  require_passed(r, node);
  CHECK(node.running());
  // The sessions were counted; the malformed packets of bad-socketio closed theirs as
  // protocol errors, and the bad polling body of bad-engineio its own.
  CHECK(metric(node.admin_port(), "chat_sio_sessions_opened_total") >= 30);
  CHECK(metric(node.admin_port(), R"(chat_sio_sessions_closed_total{cause="protocol_error"})")
        >= 7);
  CHECK(node.stop() == 0);
}

TEST_CASE("socket.io-client: a token from /api/login connects as its user; bad tokens and "
          "anonymous clients are refused") {
  token_key_file key; // security.allow-anonymous=false with a token key
  node_process node(key.node_args());
  require_passed(run_driver(node.port(), "--scenario token-auth"), node);
}

TEST_CASE("socket.io-client: idle clients answer a short heartbeat on both transports") {
  node_process node({"--security.allow-anonymous=true", "--sio.ping-interval=200ms",
                     "--sio.ping-timeout=500ms"});
  require_passed(run_driver(node.port(), "--scenario heartbeat"), node);
}

TEST_CASE("socket.io-client: a persisted ack survives kill -9; its cid stays deduplicated") {
  auto dir = make_temp_dir();
  std::string run = "r" + std::to_string(::getpid());
  {
    node_process node({"--security.allow-anonymous=true"}, dir);
    require_passed(run_driver(node.port(), "--scenario restart-write --run " + run), node);
    node.kill9();
  }
  node_process node({"--security.allow-anonymous=true"}, dir);
  require_passed(run_driver(node.port(), "--scenario restart-read --run " + run), node);
}
