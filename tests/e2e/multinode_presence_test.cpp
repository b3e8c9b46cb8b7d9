// End-to-end: presence across two nodes sharing Redis. A user is online while any node
// holds one of their connections; when the node holding them is killed (kill -9), they go
// offline for everyone within redis.node-ttl + 2 s (its heartbeat stops; live nodes reap it).
#include "support/eventually.hpp"
#include "support/http_get.hpp"
#include "support/multinode.hpp"

#include <catch2/catch.hpp>

using namespace chat::test;

namespace {

// "online" / "offline" as the node `c` is connected to answers for `user`.
std::string status_of(ws_client& c, const std::string& user) {
  c.send(R"({"op":"presence","users":[")" + user + R"("]})");
  auto f = c.next_op("presence");
  return f.at("users")[user.c_str()].GetString();
}

} // namespace

TEST_CASE("presence is global, and a killed node's users go offline within TTL + 2 s") {
  redis_server redis;
  node_group c(redis.uri(), 2, {"--redis.node-ttl=2s"});
  ws_client alice(c.port(0), "user=alice");
  CHECK(status_of(alice, "carol") == "offline");
  {
    ws_client bob(c.port(1), "user=bob");
    CHECK(eventually([&] { return status_of(alice, "bob") == "online"; }));
    bob.close();
  }
  CHECK(eventually([&] { return status_of(alice, "bob") == "offline"; }));

  ws_client bob(c.port(1), "user=bob");
  ws_client bob_again(c.port(0), "user=bob"); // a second connection, on the other node
  CHECK(eventually([&] { return status_of(alice, "bob") == "online"; }));
  bob_again.close();
  ws_client dave(c.port(1), "user=dave");
  CHECK(eventually([&] { return status_of(alice, "dave") == "online"; }));
  // bob still holds a connection on node 1.
  CHECK(status_of(alice, "bob") == "online");

  auto nodes = [&] { return http_get(c.admin_port(0), "/admin/nodes").body; };
  CHECK(nodes().find("\"n1\"") != std::string::npos);
  CHECK(http_get(c.admin_port(1), "/admin/users").body.find("\"node\":\"n1\"")
        != std::string::npos);

  auto killed = std::chrono::steady_clock::now();
  c.nodes[1]->kill9();
  REQUIRE(eventually([&] {
    return status_of(alice, "bob") == "offline" && status_of(alice, "dave") == "offline";
  }, std::chrono::milliseconds(8000)));
  CHECK(std::chrono::steady_clock::now() - killed < std::chrono::milliseconds(4000));
  auto left = nodes();
  CHECK(left.find("\"n0\"") != std::string::npos);
  CHECK(left.find("\"n1\"") == std::string::npos);
}
