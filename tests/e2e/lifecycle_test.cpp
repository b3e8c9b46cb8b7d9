// End-to-end: start-up validation (bad keys stop the node with exit code 2 and one line
// naming the key) and graceful stop on SIGTERM (sessions closed with "going away", exit 0).
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <fstream>

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
  std::string out;
  CHECK(run_chatd({"--net.port=70000"}, out) == 2);
  CHECK(out.find("net.port") != std::string::npos);

  CHECK(run_chatd({"--net.prot=1"}, out) == 2);
  CHECK(out.find("unknown key 'net.prot'") != std::string::npos);

  CHECK(run_chatd({"--storage.backend=oracle"}, out) == 2);
  CHECK(out.find("storage.backend") != std::string::npos);

  CHECK(run_chatd({"--net.idle-timeout=soon"}, out) == 2);
  CHECK(out.find("net.idle-timeout") != std::string::npos);

  CHECK(run_chatd({"--config-file=/nonexistent/chat.conf"}, out) == 2);
  CHECK(out.find("/nonexistent/chat.conf") != std::string::npos);

  auto dir = make_temp_dir();
  std::ofstream(dir + "/bad.conf") << "[net]\nmax-frame-bytes=lots\n";
  CHECK(run_chatd({"--config-file=" + dir + "/bad.conf"}, out) == 2);
  CHECK(out.find("net.max-frame-bytes") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}

TEST_CASE("the shipped caf-application.conf is valid") {
  std::string out;
  node_process node({"--config-file=" + std::string(CHAT_SOURCE_DIR) + "/caf-application.conf",
                     "--net.port=0", "--admin.port=0", "--storage.backend=memory"});
  ws_client c(node.port(), "user=a");
  CHECK(c.hello().str("user") == "a");
  CHECK(node.stop() == 0);
}
