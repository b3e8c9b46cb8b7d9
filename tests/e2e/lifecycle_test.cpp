// End-to-end: start-up validation (bad keys stop the node with exit code 2 and one line
// naming the key) and graceful stop on SIGTERM (sessions closed with "going away", exit 0),
// with and without Redis.
#include "support/auth_client.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"
#include "support/raw_ws.hpp"
#include "support/redis_server.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <vector>

using namespace chat::test;

TEST_CASE("SIGTERM closes sessions with going away and exits 0") {
  node_process node({"--storage.backend=memory"});
  ws_client c(node.port(), "user=a");
  c.join("r");
  int rc = node.stop();
  CHECK(rc == 0);
  std::string reason;
  CHECK(c.closed_within(std::chrono::milliseconds(5000), &reason));
  CHECK(reason == "going away");
}

TEST_CASE("with Redis SIGTERM also ends a session that ignores the close and exits 0") {
  // The Redis client shares the first network thread, which runs on after the others
  // stop: a session left open after the grace is closed on it, then the client stops.
  redis_server redis;
  node_process node({"--redis.uri=" + redis.uri(), "--chat.node=n0"});
  raw_ws silent(node.port(), "user=a"); // reads nothing: never answers the close frame
  ws_client c(node.port(), "user=b");
  c.join("r");
  auto t0 = std::chrono::steady_clock::now();
  int rc = node.stop();
  INFO(node.stderr_text());
  CHECK(rc == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK(node.stderr_text().find("chatd: stopped") != std::string::npos);
  CHECK(silent.ended_within(std::chrono::milliseconds(1000)));
}

TEST_CASE("bad configuration stops the node with one line naming the key") {
  auto dir = make_temp_dir();
  std::ofstream(dir + "/bad.conf") << "[net]\nmax-frame-bytes=lots\n";
  struct { std::vector<std::string> args; std::string names; } cases[] = {
    {{"--net.port=70000"}, "net.port"},
    {{"--net.prot=1"}, "unknown key 'net.prot'"},
    {{"--storage.backend=oracle"}, "storage.backend"},
    {{"--net.idle-timeout=soon"}, "net.idle-timeout"},
    {{"--config-file=/nonexistent/chat.conf"}, "/nonexistent/chat.conf"},
    {{"--config-file=" + dir + "/bad.conf"}, "net.max-frame-bytes"},
  };
  for (const auto& c : cases) {
    std::string out;
    int rc = run_chatd(c.args, out);
    INFO(c.names << ": " << out);
    CHECK(rc == 2);
    CHECK(out.find(c.names) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  }
}

TEST_CASE("the shipped caf-application.conf is valid") {
  std::string out;
  const std::string shipped = "--config-file=" + std::string(CHAT_SOURCE_DIR)
                              + "/caf-application.conf";
  {
    // Anonymous access is off as shipped: a claimed name is refused.
    node_process node({shipped, "--net.port=0", "--admin.port=0", "--storage.backend=memory"});
    CHECK(status_of(upgrade_answer(node.port(), "/ws?user=a")) == 401);
    CHECK(node.stop() == 0);
  }
  // Turned on explicitly, it works and says once that anyone may claim any name.
  node_process node({shipped, "--net.port=0", "--admin.port=0", "--storage.backend=memory",
                     "--security.allow-anonymous=true"});
  ws_client c(node.port(), "user=a");
  CHECK(c.hello().str("user") == "a");
  auto err = node.stderr_text();
  CHECK(err.find("any client may claim any user name") != std::string::npos);
  CHECK(node.stop() == 0);
}
