// End-to-end: presence across two nodes sharing Redis. A user is online while any node
// holds one of their connections; when the node holding them is killed (kill -9), they go
// offline for everyone within redis.node-ttl + 2 s (its heartbeat stops; live nodes reap it);
// when it is stopped (SIGTERM), they go offline as it leaves.
// Presence events reach room members on every node: the `presence` frames a member on
// node B gets about a user on node A are those a single node would send.
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
  while (!f.has("users")) // a presence event, not the answer
    f = c.next_op("presence");
  return f.at("users")[user.c_str()].GetString();
}

// Reads `c`'s frames until a `presence` frame saying `user` is `status` (true), or until
// `limit` passed or the connection closed (false). Every frame read is added to `seen`.
bool hears(ws_client& c, const std::string& user, const std::string& status,
           std::vector<frame>& seen, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    try {
      seen.push_back(c.next(left));
    } catch (const std::runtime_error&) {
      return false;
    }
    auto& f = seen.back();
    if (f.op() == "presence" && f.str("user") == user && f.str("status") == status)
      return true;
  }
}

bool hears(ws_client& c, const std::string& user, const std::string& status,
           std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  std::vector<frame> seen;
  return hears(c, user, status, seen, limit);
}

size_t presence_frames(const std::vector<frame>& seen, const std::string& user,
                       const std::string& status) {
  size_t n = 0;
  for (auto& f : seen)
    n += f.op() == "presence" && f.str("user") == user && f.str("status") == status;
  return n;
}

// True once node `i` of `c` holds no connection of `user` (its presence actor saw it go).
bool node_lets_go(node_group& c, size_t i, const std::string& user) {
  return eventually([&] {
    return http_get(c.admin_port(i), "/admin/users").body.find("\"user\":\"" + user + "\"")
           == std::string::npos;
  });
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

TEST_CASE("a node stopped with SIGTERM exits cleanly and takes its users offline at once") {
  // A node TTL far beyond the test: only the stopping node's own leave can do this.
  redis_server redis;
  node_group c(redis.uri(), 2, {"--redis.node-ttl=60s"});
  ws_client alice(c.port(0), "user=alice");
  ws_client erin(c.port(1), "user=erin");
  REQUIRE(eventually([&] { return status_of(alice, "erin") == "online"; }));
  auto stopped = std::chrono::steady_clock::now();
  int status = c.nodes[1]->stop();
  INFO(c.nodes[1]->stderr_text());
  CHECK(status == 0);
  CHECK(eventually([&] { return status_of(alice, "erin") == "offline"; }));
  CHECK(std::chrono::steady_clock::now() - stopped < std::chrono::seconds(10));
  CHECK(http_get(c.admin_port(0), "/admin/nodes").body.find("\"n1\"") == std::string::npos);
}

namespace {

// The whole story on nodes sharing the Redis at `uri` (a server or a cluster): two, and a
// third for a user joining one room on two nodes other than the listener's.
void presence_events_reach_every_node(const std::string& uri) {
  node_group c(uri, 3, {"--redis.node-ttl=2s"});
  // carol listens on node 1; everyone else comes and goes on node 0 unless said otherwise.
  ws_client carol(c.port(1), "user=carol");
  carol.join("lobby");

  ws_client alice(c.port(0), "user=alice");
  alice.join("lobby");
  CHECK(hears(carol, "alice", "online"));
  alice.close();
  CHECK(hears(carol, "alice", "offline"));

  // bob on both nodes: closing one connection is no offline, closing the last one is.
  ws_client bob_here(c.port(1), "user=bob");
  bob_here.join("lobby");
  REQUIRE(hears(carol, "bob", "online")); // from node 1 itself
  std::vector<frame> seen;
  {
    ws_client bob_there(c.port(0), "user=bob");
    bob_there.join("lobby");
    bob_there.close();
  }
  REQUIRE(node_lets_go(c, 0, "bob"));
  // Node 0 tells Redis in order: what bob's close said (nothing: node 1 holds bob) is
  // published before dave's join is, so carol would have read it by then.
  ws_client dave(c.port(0), "user=dave");
  dave.join("lobby");
  REQUIRE(hears(carol, "dave", "online", seen));
  CHECK(presence_frames(seen, "bob", "offline") == 0);
  CHECK(presence_frames(seen, "bob", "online") == 0); // node 1's lobby already had bob
  CHECK(status_of(carol, "bob") == "online");
  bob_here.close();
  CHECK(hears(carol, "bob", "offline"));

  // grace joins the lobby on node 0, then on node 2: carol hears `online` once. Node 2
  // publishes in order: a second `online` would reach carol before henry's.
  {
    ws_client grace_0(c.port(0), "user=grace");
    grace_0.join("lobby");
    REQUIRE(hears(carol, "grace", "online"));
    ws_client grace_2(c.port(2), "user=grace");
    grace_2.join("lobby");
    ws_client henry(c.port(2), "user=henry");
    henry.join("lobby");
    seen.clear();
    REQUIRE(hears(carol, "henry", "online", seen));
    CHECK(presence_frames(seen, "grace", "online") == 0);
  }
  CHECK(hears(carol, "grace", "offline"));

  // A member of a room the user is not in hears nothing about it.
  ws_client frank(c.port(1), "user=frank");
  frank.join("elsewhere");

  // Node 0 dies: its users go offline for members on node 1 within node-ttl + 2 s.
  ws_client erin(c.port(0), "user=erin");
  erin.join("lobby");
  REQUIRE(hears(carol, "erin", "online"));
  auto killed = std::chrono::steady_clock::now();
  c.nodes[0]->kill9();
  seen.clear();
  REQUIRE(hears(carol, "erin", "offline", seen, std::chrono::seconds(8)));
  if (presence_frames(seen, "dave", "offline") == 0)
    CHECK(hears(carol, "dave", "offline", std::chrono::seconds(8)));
  CHECK(std::chrono::steady_clock::now() - killed < std::chrono::seconds(4));
  // Events go to the rooms named in them only: frank's room heard nothing about them.
  frank.send(R"({"op":"ping"})");
  for (auto f = frank.next(); f.op() != "pong"; f = frank.next())
    CHECK(f.op() != "presence");
}

} // namespace

TEST_CASE("presence events reach room members on every node") {
  redis_server redis;
  presence_events_reach_every_node(redis.uri());
}

TEST_CASE("presence events reach room members on every node, on a Redis Cluster") {
  redis_cluster cluster; // the events channel has one hash tag: one slot, SPUBLISH
  presence_events_reach_every_node(cluster.uri());
}
