// Unit (against a real redis-server): the subscriber — channels added and removed at run
// time with one handler each, many channels on one connection, resubscription after a
// server restart (reported as resubscribed), and an unsubscribe followed at once by a
// subscribe of the same channel.
#include "net/redis/client.hpp"
#include "support/mailbox.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace chat;
using namespace chat::redis;
using namespace std::chrono_literals;
using test::mailbox;

namespace {

struct event {
  std::string channel;
  std::string what; // "active", "again" (resubscribed) or the message payload
};

channel_handlers record(mailbox<event>& box, const std::string& channel) {
  return channel_handlers{
    [&box, channel](std::string_view payload) { box.push({channel, std::string(payload)}); },
    [&box, channel](bool again) { box.push({channel, again ? "again" : "active"}); }};
}

bool has(mailbox<event>& box, const std::string& channel, const std::string& what) {
  return box.wait([&](const std::vector<event>& v) {
    for (auto& e : v)
      if (e.channel == channel && e.what == what)
        return true;
    return false;
  });
}

int64_t subscribers(test::redis_server& server, const std::string& channel) {
  auto r = server.command({"PUBSUB", "NUMSUB", channel});
  return r.elements.size() == 2 ? r.elements[1].integer : -1;
}

// A client with one channel subscribed and confirmed.
struct subscribed {
  mailbox<event> events;
  client rc;
  subscribed(const test::redis_server& server, const std::string& channel)
    : rc(test::test_settings(server)) {
    rc.start();
    rc.subscribe(channel, record(events, channel));
    REQUIRE(has(events, channel, "active"));
  }
};

} // namespace

TEST_CASE("channels are subscribed and unsubscribed one by one at run time") {
  test::redis_server server;
  subscribed sub(server, "room:a");
  auto& [events, rc] = sub;
  CHECK(server.command({"PUBLISH", "room:a", std::string("x\0y", 3)}).integer == 1);
  REQUIRE(has(events, "room:a", std::string("x\0y", 3)));

  rc.unsubscribe("room:a");
  REQUIRE(test::eventually([&] { return subscribers(server, "room:a") == 0; }));
  auto before = events.size();
  CHECK(server.command({"PUBLISH", "room:a", "gone"}).integer == 0);

  rc.subscribe("room:a", record(events, "room:a"));
  REQUIRE(events.wait_count(before + 1));
  CHECK(events.items().back().what == "active"); // a fresh subscription, not a repair
  CHECK(server.command({"PUBLISH", "room:a", "back"}).integer == 1);
  REQUIRE(has(events, "room:a", "back"));
  for (auto& e : events.items())
    CHECK(e.what != "gone");
}

TEST_CASE("many channels share one connection; each message reaches its own handler once") {
  test::redis_server server;
  constexpr int channels = 200;
  mailbox<event> events;
  client rc(test::test_settings(server));
  rc.start();
  for (int i = 0; i < channels; ++i)
    rc.subscribe("c" + std::to_string(i), record(events, "c" + std::to_string(i)));
  REQUIRE(events.wait_count(channels));
  REQUIRE(test::eventually([&] { return rc.up(); }));
  for (int i = 0; i < channels; ++i)
    CHECK(server.command({"PUBLISH", "c" + std::to_string(i), "m" + std::to_string(i)}).integer
          == 1);
  REQUIRE(events.wait_count(2 * channels));
  std::map<std::string, int> got;
  for (auto& e : events.items())
    if (e.what != "active") {
      CHECK(e.what == "m" + e.channel.substr(1));
      ++got[e.channel];
    }
  CHECK(got.size() == size_t(channels));
  for (auto& [ch, n] : got)
    CHECK(n == 1);
  auto clients = server.command({"CLIENT", "LIST"}).str;
  CHECK(std::count(clients.begin(), clients.end(), '\n') == 3); // commands, subs, this one
}

TEST_CASE("after a server restart every channel is subscribed again and says so") {
  test::redis_server server;
  mailbox<event> events;
  mailbox<bool> states;
  client rc(test::test_settings(server));
  rc.on_state([&](bool up) { states.push(up); });
  rc.start();
  rc.subscribe("a", record(events, "a"));
  rc.subscribe("b", record(events, "b"));
  REQUIRE(has(events, "a", "active"));
  REQUIRE(has(events, "b", "active"));

  server.kill9();
  REQUIRE(states.wait([](auto& v) { return !v.empty() && !v.back(); }));
  server.restart();
  REQUIRE(has(events, "a", "again"));
  REQUIRE(has(events, "b", "again"));
  REQUIRE(states.wait([](auto& v) { return v.back(); }));
  CHECK(server.command({"PUBLISH", "a", "after"}).integer == 1);
  REQUIRE(has(events, "a", "after"));
  CHECK(rc.counters().resubscribes == 2);
}

TEST_CASE("unsubscribe and subscribe of one channel in a row leave it subscribed") {
  test::redis_server server;
  subscribed sub(server, "x");
  auto& [events, rc] = sub;
  for (int i = 0; i < 20; ++i) {
    rc.unsubscribe("x");
    rc.subscribe("x", record(events, "x"));
  }
  // Subscriptions superseded before their confirmation never report: only the last one
  // (and the first) does.
  REQUIRE(events.wait_count(2));
  REQUIRE(test::eventually([&] { return subscribers(server, "x") == 1; }));
  CHECK(server.command({"PUBLISH", "x", "still here"}).integer == 1);
  REQUIRE(has(events, "x", "still here"));
}
