// Unit (against a real 3-master Redis Cluster made by `redis-cli --cluster create`): slot
// routing (our CRC16 against CLUSTER KEYSLOT; a key on each master), the room script and
// sharded pub/sub on every master, a room's slot moved to another master (MOVED: its seqs
// continue; the server's sunsubscribe: the subscription follows and reports the repair),
// ASK during a migration, presence on a cluster, and a master's restart (unavailable while
// down, then a seed, then normal).
#include "net/redis/client.hpp"
#include "net/redis/presence.hpp"
#include "net/redis/room_log.hpp"
#include "net/redis/slot_map.hpp"
#include "support/mailbox.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <future>

using namespace chat;
using namespace chat::redis;
using namespace std::chrono_literals;
using test::mailbox;

namespace {

test::redis_cluster& cluster() {
  static test::redis_cluster c; // one per test binary: creating it takes seconds
  return c;
}

// A room whose keys live on master `node` (and not in `avoid`).
std::string room_on(size_t node, const std::string& prefix, int avoid_slot = -1) {
  for (int i = 0;; ++i) {
    auto room = prefix + std::to_string(i);
    int slot = key_slot(keys_for(room).seq);
    if (slot != avoid_slot && cluster().owner_of(slot) == node)
      return room;
  }
}

room_message msg(const std::string& room, const std::string& cid) {
  room_message m;
  m.room = room;
  m.user = "u";
  m.cid = cid;
  m.text = "text " + cid;
  m.ts_ms = 1;
  m.origin = "test";
  return m;
}

seq_result sequence(room_log& log, const room_message& m, bool seeded = true) {
  auto p = std::make_shared<std::promise<seq_result>>();
  auto f = p->get_future();
  REQUIRE(log.sequence(m, 0, seeded, false,
                       [p](seq_result&& r) { p->set_value(std::move(r)); }));
  REQUIRE(f.wait_for(15s) == std::future_status::ready);
  return f.get();
}

response run(client& c, std::string_view route, std::initializer_list<std::string_view> args) {
  auto p = std::make_shared<std::promise<response>>();
  auto f = p->get_future();
  REQUIRE(c.command(route, args, [p](response&& r) { p->set_value(std::move(r)); }));
  REQUIRE(f.wait_for(15s) == std::future_status::ready);
  return f.get();
}

struct room_watch {
  mailbox<room_message> got;
  mailbox<bool> active; // false: first subscription, true: resubscribed
  channel_handlers handlers() {
    return {[this](std::string_view payload) {
              room_message m;
              REQUIRE(decode_published(payload, 1 << 20, m).empty());
              got.push(std::move(m));
            },
            [this](bool again) { active.push(again); }};
  }
};

} // namespace

TEST_CASE("our key slots are the cluster's") {
  for (std::string key : std::vector<std::string>{"lobby", "seq:{lobby}", "{a}b", "foo{}{bar}", "foo{{bar}}zap",
                          "chat:{a%7Db}", std::string("\0\xff{x", 4), "", "{presence}:nodes"}) {
    INFO(key);
    CHECK(key_slot(key) == cluster().node(0).command({"CLUSTER", "KEYSLOT", key}).integer);
  }
}

TEST_CASE("commands reach the master of their key's slot, one connection per master") {
  client rc(test::test_settings(cluster()));
  rc.start();
  REQUIRE(test::eventually([&] { return rc.up(); }));
  for (size_t n = 0; n < cluster().size(); ++n) {
    auto key = room_on(n, "key");
    CHECK(run(rc, key, {"SET", key, "v" + std::to_string(n)}).ok());
    auto got = run(rc, key, {"GET", key});
    CHECK(got.value.str == "v" + std::to_string(n));
    // It really is on that master: asked directly there, no redirection.
    CHECK(cluster().node(n).command({"GET", key}).str == "v" + std::to_string(n));
  }
  CHECK(rc.counters().redirects == 0);
  CHECK(rc.counters().map_refreshes >= 1);
}

TEST_CASE("the room script and sharded pub/sub work on every master") {
  client rc(test::test_settings(cluster()));
  rc.start();
  room_log log(rc);
  std::vector<std::unique_ptr<room_watch>> watches;
  std::vector<std::string> rooms;
  for (size_t n = 0; n < cluster().size(); ++n) {
    rooms.push_back(room_on(n, "script-room"));
    watches.push_back(std::make_unique<room_watch>());
    rc.subscribe(room_channel(rooms.back()), watches.back()->handlers());
  }
  for (auto& w : watches)
    REQUIRE(w->active.wait_count(1));
  for (size_t n = 0; n < rooms.size(); ++n) {
    CHECK(sequence(log, msg(rooms[n], "0"), false).status == seq_status::needs_seed);
    for (int i = 1; i <= 20; ++i)
      REQUIRE(sequence(log, msg(rooms[n], std::to_string(i))).seq == uint64_t(i));
    CHECK(sequence(log, msg(rooms[n], "5")).status == seq_status::duplicate);
  }
  for (size_t n = 0; n < rooms.size(); ++n) {
    REQUIRE(watches[n]->got.wait_count(20));
    auto got = watches[n]->got.items();
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].seq == i + 1);
      CHECK(got[i].room == rooms[n]);
    }
    // Each room's stream is on its own master.
    CHECK(cluster().node(n).command({"XLEN", keys_for(rooms[n]).hist}).integer == 20);
  }
  // One subscription connection per master that holds subscribed channels.
  for (size_t n = 0; n < cluster().size(); ++n)
    CHECK(cluster().node(n).command({"PUBSUB", "SHARDNUMSUB", room_channel(rooms[n])})
            .elements[1]
            .integer
          == 1);
}

TEST_CASE("a room moved to another master keeps its seqs and its subscription") {
  client rc(test::test_settings(cluster()));
  rc.start();
  room_log log(rc);
  auto room = room_on(0, "moving");
  int slot = key_slot(keys_for(room).seq);
  room_watch watch;
  rc.subscribe(room_channel(room), watch.handlers());
  REQUIRE(watch.active.wait_count(1));
  for (int i = 1; i <= 5; ++i)
    REQUIRE(sequence(log, msg(room, std::to_string(i))).seq == uint64_t(i));
  REQUIRE(watch.got.wait_count(5));

  uint64_t refreshes_before = rc.counters().map_refreshes;
  cluster().move_slot(slot, 1);
  auto sixth = sequence(log, msg(room, "6"), false);
  CHECK(sixth.status == seq_status::sequenced);
  CHECK(sixth.seq == 6);
  // The client learned of the move either from a MOVED answer to this command or, if the old
  // master's sunsubscribe arrived first, from the slot-map refresh that it prompts.
  CHECK(rc.counters().redirects + (rc.counters().map_refreshes - refreshes_before) >= 1);
  CHECK(sequence(log, msg(room, "3"), false).status == seq_status::duplicate); // cids moved too

  // The old master ended the subscription; it is re-made on the new one and says so.
  REQUIRE(watch.active.wait([](auto& v) { return v.size() >= 2 && v.back(); }));
  for (int i = 7; i <= 10; ++i)
    REQUIRE(sequence(log, msg(room, std::to_string(i)), false).seq == uint64_t(i));
  REQUIRE(watch.got.wait([](auto& v) { return !v.empty() && v.back().seq == 10; }));
  CHECK(cluster().node(1).command({"PUBSUB", "SHARDNUMSUB", room_channel(room)})
          .elements[1]
          .integer
        == 1);
  // What the subscription may have missed is in the stream, now on the new master.
  auto p = std::make_shared<std::promise<range_result>>();
  REQUIRE(log.fetch(room, 5, 0, 100, [p](range_result&& r) { p->set_value(std::move(r)); }));
  auto range = p->get_future().get();
  REQUIRE(range.ok);
  REQUIRE(range.messages.size() == 5);
  CHECK(range.messages.front().seq == 6);
}

TEST_CASE("a key created during a migration is written where ASK says") {
  client rc(test::test_settings(cluster()));
  rc.start();
  REQUIRE(test::eventually([&] { return rc.up(); }));
  auto key = room_on(2, "asked");
  int slot = key_slot(key);
  cluster().begin_move(slot, 0);
  auto set = run(rc, key, {"SET", key, "new"}); // absent on the source: ASK -> target
  CHECK(set.ok());
  // Not on the source: asked there, it still answers ASK (it would answer 1 if it had it).
  CHECK(cluster().node(2).command({"EXISTS", key}).error_is("ASK"));
  cluster().finish_move(slot, 0);
  CHECK(cluster().node(0).command({"GET", key}).str == "new");
  CHECK(run(rc, key, {"GET", key}).value.str == "new");
  CHECK(rc.counters().redirects >= 1);
}

TEST_CASE("presence and its events work on a cluster") {
  auto s = test::test_settings(cluster());
  s.node = "cn1";
  s.node_ttl = 1000ms;
  mailbox<std::string> heard, listening;
  client rc(s);
  presence p(rc, {[&](const std::string& user, bool online, const std::vector<std::string>& in) {
                    std::string rooms;
                    for (auto& r : in)
                      rooms += " " + r;
                    heard.push(user + (online ? "+" : "-") + rooms);
                  },
                  [&] { listening.push("ok"); }, {}});
  rc.start();
  p.start();
  REQUIRE(listening.wait_count(1));
  p.set_connections("zoe", 1);
  REQUIRE(heard.wait([](auto& v) { return !v.empty() && v.back() == "zoe+"; }));
  p.joined("zoe", "lobby");
  REQUIRE(heard.wait([](auto& v) { return v.back() == "zoe+ lobby"; }));
  p.set_connections("zoe", 0, {"lobby", "dev"});
  REQUIRE(heard.wait([](auto& v) { return v.back() == "zoe- lobby dev"; }));
  p.stop();
}

TEST_CASE("a master's restart: unavailable while down, a seed after, then normal") {
  auto s = test::test_settings(cluster());
  s.unavailable_timeout = 500ms;
  client rc(s);
  rc.start();
  room_log log(rc);
  auto room = room_on(2, "restart");
  REQUIRE(sequence(log, msg(room, "1")).seq == 1);
  cluster().node(2).kill9();
  auto down = sequence(log, msg(room, "2"), false);
  CHECK(down.status == seq_status::failed);
  CHECK((down.fail == failure::unavailable || down.fail == failure::lost));
  REQUIRE(test::eventually([&] { return !rc.up(); }));
  cluster().node(2).restart(); // same directory: it rejoins with its nodes.conf, data lost
  REQUIRE(test::eventually([&] { return cluster().healthy(); }, 30s));
  REQUIRE(test::eventually([&] { return rc.up(); }, 30s));
  CHECK(sequence(log, msg(room, "2"), false).status == seq_status::needs_seed);
  // Seeded from the caller's floor; the dedupe entries are gone too, so an unknown cid is
  // to be checked against the store first, then numbered.
  for (bool checked : {false, true}) {
    auto p = std::make_shared<std::promise<seq_result>>();
    REQUIRE(log.sequence(msg(room, "2"), 1, true, checked,
                         [p](seq_result&& r) { p->set_value(r); }));
    auto r = p->get_future().get();
    CHECK(r.status == (checked ? seq_status::sequenced : seq_status::needs_check));
    if (checked)
      CHECK(r.seq == 2);
  }
}
