// End-to-end: Socket.IO connection-state recovery (sio.connection-state-recovery) with the
// official socket.io-client's own mechanism (tests/sio/recovery_scenarios.mjs) against real
// chatd processes: a dropped client (WebSocket, polling, after the upgrade) comes back
// with `socket.recovered` and every message exactly once without joining again; unknown
// pids, expired state and state past sio.recovery-bytes give a new socket (rooms see the
// old one leave) and `since` still works; another user's CONNECT with a pid (a name, or
// with accounts a token) gets nothing of it; and with the setting off (the default) nothing changes on the wire. Skipped (exit
// 77) only when there is no `node`.
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/node_script.hpp"
#include "support/auth_client.hpp"
#include "support/sio_driver.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <thread>

using namespace chat::test;

namespace {

script_result run_scenarios(uint16_t port, const std::string& names) {
  auto r = run_sio_driver(port, "--scenario " + names);
  std::cout << r.output;
  return r;
}

double recoveries(const node_process& node, const std::string& result) {
  return metric(node.admin_port(), "chat_sio_recoveries_total{result=\"" + result + "\"}");
}

// Waits until the node holds no disconnected socket any more (bounded).
void wait_detached_zero(const node_process& node) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (metric(node.admin_port(), "chat_sio_detached") != 0
         && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(metric(node.admin_port(), "chat_sio_detached") == 0);
}

struct skip_without_node {
  skip_without_node() { require_node_or_skip(); }
} const check_node;

// A node with recovery and `setting`: the scenario's state is released for `result`.
void released_for(const std::string& setting, const std::string& scenario,
                  const std::string& result) {
  node_process node({"--security.allow-anonymous=true", "--sio.connection-state-recovery=true",
                     setting});
  require_sio_passed(run_scenarios(node.port(), scenario), node);
  CHECK(recoveries(node, result) == 1);
  CHECK(recoveries(node, "recovered") == 0);
  wait_detached_zero(node);
  CHECK(node.stop() == 0);
}

} // namespace

TEST_CASE("socket.io recovery: a dropped client recovers its socket with every message once; "
          "unknown pids and other users get new sockets") {
  node_process node({"--security.allow-anonymous=true", "--sio.connection-state-recovery=true"});
  auto r = run_scenarios(node.port(), "recovery-websocket,recovery-polling,recovery-upgraded,"
                                      "recovery-unknown,recovery-other-user");
  require_sio_passed(r, node);
  CHECK(recoveries(node, "recovered") == 4); // three transports, then alice after the thief
  CHECK(recoveries(node, "unknown") == 1);
  CHECK(recoveries(node, "user_mismatch") == 1);
  CHECK(recoveries(node, "offset_not_found") == 0);
  CHECK(recoveries(node, "overflow") == 0);
  CHECK(node.running());
  CHECK(node.stop() == 0);
}

TEST_CASE("socket.io recovery: past sio.max-disconnection-duration the state is released and "
          "`since` fills the gap") {
  released_for("--sio.max-disconnection-duration=300ms", "recovery-expired", "expired");
}

TEST_CASE("socket.io recovery: past sio.recovery-bytes while disconnected the state is "
          "released and the room sees the member leave") {
  released_for("--sio.recovery-bytes=1KiB", "recovery-overflow", "overflow");
}

TEST_CASE("socket.io recovery: with accounts, another user's token never gets a socket by its "
          "pid; the owner's token does") {
  token_key_file key;
  auto args = key.node_args();
  args.push_back("--sio.connection-state-recovery=true");
  node_process node(args);
  require_sio_passed(run_scenarios(node.port(), "recovery-token"), node);
  CHECK(recoveries(node, "user_mismatch") == 1);
  CHECK(recoveries(node, "recovered") == 1);
  CHECK(node.stop() == 0);
}

TEST_CASE("socket.io recovery: off by default, no pid and no offsets") {
  node_process node({"--security.allow-anonymous=true"});
  auto r = run_scenarios(node.port(), "recovery-off");
  require_sio_passed(r, node);
  CHECK(recoveries(node, "recovered") == 0);
  CHECK(recoveries(node, "unknown") == 0); // a pid sent to a node without recovery is ignored
  CHECK(node.stop() == 0);
}
