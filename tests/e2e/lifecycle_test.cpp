// End-to-end: start-up validation (bad keys stop the node with exit code 2 and one line
// naming the key) and graceful stop on SIGTERM (sessions closed with "going away", exit 0).
#include "support/auth_client.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
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
