// Unit (against a real redis-server): global presence across "nodes" (clients with their
// own names) — online while any node holds a connection, events reach every node, a node
// that stops heartbeating (as after kill -9) takes its users offline within TTL + 2 s, a
// restarted node clears what it left, and nodes report their users again after Redis lost
// everything. Events name the rooms whose members should hear them: a node's first join of
// a room, the rooms of a user's last connection, the rooms a dead node listed.
#include "net/redis/presence.hpp"
#include "support/mailbox.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <future>

using namespace chat;
using namespace chat::redis;
using namespace std::chrono_literals;
using test::mailbox;

namespace {

struct change {
  std::string user;
  bool online;
  std::vector<std::string> rooms;
};

// One node's Redis client and presence, recording the changes it hears.
struct node {
  mailbox<change> heard;
  mailbox<bool> listening;
  std::unique_ptr<client> rc;
  std::unique_ptr<presence> p;

  node(const test::redis_server& server, const std::string& name) {
    auto s = test::test_settings(server);
    s.node = name;
    s.node_ttl = 1000ms;
    rc = std::make_unique<client>(s);
    p = std::make_unique<presence>(*rc, presence::events{
                                          [this](const std::string& user, bool online,
                                                 const std::vector<std::string>& rooms) {
                                            heard.push({user, online, rooms});
                                          },
                                          [this] { listening.push(true); }, {}});
    rc->start();
    p->start();
    REQUIRE(listening.wait_count(1)); // events from now on reach this node
  }
  ~node() { crash(); }
  // As after kill -9: no goodbye, the heartbeats just stop.
  void crash() {
    if (!rc)
      return;
    rc->stop();
    p.reset();
    rc.reset();
  }

  bool heard_that(const std::string& user, bool online,
                  const std::vector<std::string>* rooms = nullptr) {
    return heard.wait([&](const std::vector<change>& v) {
      for (auto& c : v)
        if (c.user == user && c.online == online && (!rooms || c.rooms == *rooms))
          return true;
      return false;
    });
  }
  size_t count(const std::string& user, bool online) {
    size_t n = 0;
    for (auto& c : heard.items())
      n += c.user == user && c.online == online;
    return n;
  }
  std::map<std::string, bool> online(std::vector<std::string> users) {
    std::promise<std::map<std::string, bool>> got;
    p->online(users, [&](bool ok, std::map<std::string, bool> m) {
      CHECK(ok);
      got.set_value(std::move(m));
    });
    return got.get_future().get();
  }
  std::vector<node_info> nodes() {
    std::promise<std::vector<node_info>> got;
    p->live_nodes([&](bool ok, std::vector<node_info> v) {
      CHECK(ok);
      got.set_value(std::move(v));
    });
    return got.get_future().get();
  }
};

} // namespace

TEST_CASE("a user is online while any node holds a connection, and every node hears it") {
  test::redis_server server;
  node n1(server, "n1"), n2(server, "n2");
  REQUIRE(test::eventually([&] { return n1.nodes().size() == 2; }));

  n1.p->set_connections("alice", 1);
  REQUIRE(n1.heard_that("alice", true));
  REQUIRE(n2.heard_that("alice", true));
  n2.p->set_connections("alice", 2); // already online: no event
  auto online = n2.online({"alice", "bob"});
  CHECK(online["alice"]);
  CHECK_FALSE(online["bob"]);

  auto nodes = n1.nodes();
  REQUIRE(nodes.size() == 2);
  for (auto& n : nodes) {
    CHECK(n.users == 1);
    CHECK(n.connections == (n.name == "n1" ? 1u : 2u));
    CHECK(n.expires_in_ms > 0);
    CHECK(n.expires_in_ms <= 1000);
  }
  std::promise<std::map<std::string, uint64_t>> users;
  n1.p->node_users("n2", [&](bool ok, std::map<std::string, uint64_t> m) {
    CHECK(ok);
    users.set_value(std::move(m));
  });
  CHECK(users.get_future().get() == std::map<std::string, uint64_t>{{"alice", 2}});

  n1.p->set_connections("alice", 0); // n2 still holds alice
  n2.p->set_connections("alice", 0);
  REQUIRE(n1.heard_that("alice", false));
  REQUIRE(n2.heard_that("alice", false));
  CHECK(n1.count("alice", true) == 1);
  CHECK(n1.count("alice", false) == 1);
  CHECK_FALSE(n1.online({"alice"})["alice"]);
}

TEST_CASE("a node that dies takes its users offline within TTL + 2 s") {
  test::redis_server server;
  node n1(server, "n1"), n2(server, "n2");
  n2.p->set_connections("bob", 1);
  n2.p->set_connections("carol", 1);
  n1.p->set_connections("carol", 1);
  REQUIRE(n1.heard_that("bob", true));
  REQUIRE(n1.heard_that("carol", true));
  REQUIRE(test::eventually([&] { return n1.nodes().size() == 2; }));

  auto died = std::chrono::steady_clock::now();
  n2.crash();
  REQUIRE(n1.heard.wait(
    [](const std::vector<change>& v) {
      for (auto& c : v)
        if (c.user == "bob" && !c.online)
          return true;
      return false;
    },
    3000ms)); // node-ttl (1 s) + 2 s
  CHECK(std::chrono::steady_clock::now() - died < 3000ms);
  CHECK(n1.count("carol", false) == 0); // n1 still holds carol
  auto nodes = n1.nodes();
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].name == "n1");
  CHECK(server.command({"EXISTS", "{presence}:node:n2"}).integer == 0);
  auto online = n1.online({"bob", "carol"});
  CHECK_FALSE(online["bob"]);
  CHECK(online["carol"]);
}

TEST_CASE("a node restarted under its name clears what its previous run left at once") {
  test::redis_server server;
  node n1(server, "n1");
  auto old = std::make_unique<node>(server, "n2");
  old->p->set_connections("dave", 1);
  REQUIRE(n1.heard_that("dave", true));
  old->crash();
  auto t0 = std::chrono::steady_clock::now();
  node again(server, "n2");
  REQUIRE(n1.heard_that("dave", false));
  CHECK(std::chrono::steady_clock::now() - t0 < 900ms); // not waiting for the TTL
}

TEST_CASE("after Redis lost everything, nodes report their users again") {
  test::redis_server server;
  node n1(server, "n1");
  n1.p->set_connections("erin", 3);
  REQUIRE(n1.heard_that("erin", true));
  REQUIRE(server.command({"FLUSHALL"}).str == "OK");
  CHECK_FALSE(n1.online({"erin"})["erin"]);
  // The next heartbeat finds its node entry gone and sends every user again.
  REQUIRE(test::eventually([&] { return n1.online({"erin"})["erin"]; }, 3000ms));
  CHECK(server.command({"HGET", "{presence}:node:n1", "erin"}).str == "3");
}

TEST_CASE("a node that stops cleanly takes its users offline at once") {
  test::redis_server server;
  node n1(server, "n1"), n2(server, "n2");
  n2.p->set_connections("frank", 1);
  REQUIRE(n1.heard_that("frank", true));
  n2.p->stop();
  REQUIRE(n1.heard.wait(
    [](const std::vector<change>& v) { return !v.empty() && v.back().user == "frank" && !v.back().online; },
    900ms));
  CHECK(n1.nodes().size() == 1);
}

TEST_CASE("events name the rooms: first joins, a last connection's rooms, a dead node's rooms") {
  test::redis_server server;
  node n1(server, "n1"), n2(server, "n2");
  using rooms = std::vector<std::string>;
  const rooms none, lobby{"lobby"}, odd{"odd:name 1"}, both{"lobby", "odd:name 1"};
  n2.p->joined("gina", "lobby"); // not held by n2: no event
  n2.p->set_connections("gina", 1);
  REQUIRE(n1.heard_that("gina", true, &none));
  n2.p->joined("gina", "lobby");
  n2.p->joined("gina", "odd:name 1");
  REQUIRE(n1.heard_that("gina", true, &lobby));
  REQUIRE(n1.heard_that("gina", true, &odd));
  CHECK(n1.count("gina", true) == 3);
  n2.p->set_connections("gina", 0, both);
  REQUIRE(n1.heard_that("gina", false, &both));
  CHECK(server.command({"HEXISTS", "{presence}:rooms:n2", "gina"}).integer == 0);

  // A node that dies: its users' rooms come from what it listed (a part removes one).
  n2.p->set_connections("hank", 1);
  n2.p->joined("hank", "lobby");
  n2.p->joined("hank", "odd:name 1");
  n2.p->parted("hank", "odd:name 1");
  REQUIRE(n1.heard_that("hank", true, &odd));
  REQUIRE(test::eventually([&] {
    return server.command({"HGET", "{presence}:rooms:n2", "hank"}).str == "5:lobby";
  }));
  n2.crash();
  REQUIRE(n1.heard.wait(
    [&](const std::vector<change>& v) {
      for (auto& c : v)
        if (c.user == "hank" && !c.online)
          return c.rooms == lobby;
      return false;
    },
    3000ms));
  CHECK(server.command({"EXISTS", "{presence}:rooms:n2"}).integer == 0);
}
