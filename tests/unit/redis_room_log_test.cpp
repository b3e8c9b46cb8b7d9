// Unit (against a real redis-server): the room sequencing script and stream reads — seq
// order equals publish order under concurrent callers on two clients, cid dedupe across
// clients (duplicate / conflict, bounded window), seeding after FLUSHALL with no seq ever
// reused (also with two clients racing), calls sharing a write within the batch delay, gap
// repair from the capped stream, odd room names and binary text.
#include "net/redis/client.hpp"
#include "net/redis/room_log.hpp"
#include "support/mailbox.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <future>
#include <set>
#include <thread>

using namespace chat;
using namespace chat::redis;
using namespace std::chrono_literals;
using test::mailbox;

namespace {

room_message msg(const std::string& room, const std::string& user, const std::string& cid,
                  const std::string& text) {
  room_message m;
  m.room = room;
  m.user = user;
  m.cid = cid;
  m.text = text;
  m.ts_ms = 1700000000000;
  m.origin = "test";
  return m;
}

seq_result sequence(room_log& log, const room_message& m, uint64_t floor = 0,
                    bool seeded = false, bool checked = false) {
  auto p = std::make_shared<std::promise<seq_result>>();
  auto f = p->get_future();
  REQUIRE(log.sequence(m, floor, seeded, checked,
                       [p](seq_result&& r) { p->set_value(std::move(r)); }));
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

range_result fetch(room_log& log, const std::string& room, uint64_t after, uint64_t upto,
                   uint32_t max) {
  auto p = std::make_shared<std::promise<range_result>>();
  auto f = p->get_future();
  REQUIRE(log.fetch(room, after, upto, max, [p](range_result&& r) { p->set_value(std::move(r)); }));
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

// Everything published on a room's channel, decoded.
struct observer {
  mailbox<room_message> got;
  mailbox<bool> active;
  void watch(client& c, const std::string& room) {
    c.subscribe(room_channel(room),
                channel_handlers{[this](std::string_view payload) {
                                   room_message m;
                                   auto err = decode_published(payload, 1 << 20, m);
                                   REQUIRE(err.empty());
                                   got.push(std::move(m));
                                 },
                                 [this](bool) { active.push(true); }});
    REQUIRE(active.wait_count(1));
  }
};

// Two nodes' clients on one server, and an observer of what is published.
struct two_nodes {
  observer obs;
  client a, b;
  room_log log_a, log_b;
  explicit two_nodes(const settings& s) : a(s), b(s), log_a(a), log_b(b) {
    a.start();
    b.start();
  }
};

} // namespace

TEST_CASE("concurrent callers on two clients get distinct seqs, published in seq order") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.stream_max = 10000;
  two_nodes nodes(s);
  auto& [obs, a, b, log_a, log_b] = nodes;
  obs.watch(a, "lobby");

  REQUIRE(sequence(log_a, msg("lobby", "u", "seed", "first"), 0, true).seq == 1);
  constexpr int threads = 4, per_thread = 500;
  std::mutex mu;
  std::map<std::string, uint64_t> seq_of; // cid -> seq answered to its caller
  std::map<int, std::vector<uint64_t>> order; // thread -> seqs in submission order
  std::vector<std::thread> callers;
  std::atomic<int> done{0};
  for (int t = 0; t < threads; ++t) {
    // Structured bindings cannot be captured in C++17 (clang refuses): a pointer can.
    auto* log = t % 2 ? &log_b : &log_a;
    callers.emplace_back([&, t, log] {
      std::vector<std::future<seq_result>> results;
      for (int i = 0; i < per_thread; ++i) {
        auto cid = std::to_string(t) + "-" + std::to_string(i);
        auto p = std::make_shared<std::promise<seq_result>>();
        results.push_back(p->get_future());
        REQUIRE(log->sequence(msg("lobby", "user" + std::to_string(t), cid, "text " + cid), 0,
                             false, false, [p](seq_result&& r) { p->set_value(std::move(r)); }));
      }
      for (int i = 0; i < per_thread; ++i) {
        auto r = results[size_t(i)].get();
        REQUIRE(r.status == seq_status::sequenced);
        std::lock_guard<std::mutex> guard(mu);
        seq_of[std::to_string(t) + "-" + std::to_string(i)] = r.seq;
        order[t].push_back(r.seq);
      }
      ++done;
    });
  }
  for (auto& c : callers)
    c.join();
  REQUIRE(done == threads);

  std::set<uint64_t> seqs;
  for (auto& [cid, seq] : seq_of)
    seqs.insert(seq);
  CHECK(seqs.size() == size_t(threads * per_thread));
  CHECK(*seqs.begin() == 2);
  CHECK(*seqs.rbegin() == uint64_t(threads * per_thread + 1));
  for (auto& [t, v] : order)
    for (size_t i = 1; i < v.size(); ++i)
      CHECK(v[i] > v[i - 1]); // one caller's messages keep their order

  // The channel carries every message once, in seq order, with the seq its caller got.
  REQUIRE(obs.got.wait_count(size_t(threads * per_thread + 1)));
  auto published = obs.got.items();
  for (size_t i = 0; i < published.size(); ++i) {
    REQUIRE(published[i].seq == i + 1);
    if (i > 0) {
      CHECK(seq_of[published[i].cid] == published[i].seq);
      CHECK(published[i].text == "text " + published[i].cid);
    }
  }
  CHECK(server.command({"XLEN", "hist:{lobby}"}).integer == threads * per_thread + 1);
  // Quiet rooms leave Redis: the stream and dedupe hashes expire, the counter stays.
  auto ttl = server.command({"PTTL", "hist:{lobby}"}).integer;
  CHECK(ttl > 0);
  CHECK(ttl <= s.room_idle_ttl.count());
  CHECK(server.command({"PTTL", "cida:{lobby}"}).integer > 0);
  CHECK(server.command({"PTTL", "seq:{lobby}"}).integer == -1);
  CHECK(server.command({"GET", "seq:{lobby}"}).str == std::to_string(threads * per_thread + 1));
}

TEST_CASE("a cid is deduplicated across clients; another text under it is a conflict") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.dedupe_window = 4;
  two_nodes nodes(s);
  auto& [obs, a, b, log_a, log_b] = nodes;
  obs.watch(b, "r");

  auto original = msg("r", "alice", "c1", "hi");
  original.ts_ms = 111;
  auto first = sequence(log_a, original, 0, true);
  REQUIRE(first.status == seq_status::sequenced);
  auto retry = original;
  retry.ts_ms = 222;
  retry.origin = "other-node";
  auto dup = sequence(log_b, retry);
  CHECK(dup.status == seq_status::duplicate);
  CHECK(dup.seq == first.seq);
  CHECK(dup.ts_ms == 111);
  auto clash = sequence(log_b, msg("r", "alice", "c1", "something else"));
  CHECK(clash.status == seq_status::conflict);
  CHECK(clash.seq == first.seq);
  // The same cid from another user, or ("al", "icec1") that would collide if naively
  // concatenated, is a different message.
  CHECK(sequence(log_b, msg("r", "bob", "c1", "hi")).status == seq_status::sequenced);
  CHECK(sequence(log_b, msg("r", "al", "icec1", "hi")).status == seq_status::sequenced);
  REQUIRE(obs.got.wait_count(3));

  // The window is bounded: after two generations of other messages the cid is forgotten.
  for (int i = 0; i < 10; ++i)
    REQUIRE(sequence(log_a, msg("r", "carol", std::to_string(i), "x")).status
            == seq_status::sequenced);
  CHECK(server.command({"HLEN", "cida:{r}"}).integer <= 4); // one window each
  CHECK(server.command({"HLEN", "cidb:{r}"}).integer <= 4);
  CHECK(sequence(log_b, original).status == seq_status::sequenced);
}

TEST_CASE("after FLUSHALL the counter is seeded before any seq is handed out") {
  test::redis_server server;
  two_nodes nodes(test::test_settings(server));
  auto& [obs, a, b, log_a, log_b] = nodes;

  // A new room (or a lost counter) is never numbered without a seed.
  CHECK(sequence(log_a, msg("r", "u", "0", "x")).status == seq_status::needs_seed);
  CHECK(server.command({"EXISTS", "seq:{r}"}).integer == 0);
  std::set<uint64_t> handed_out;
  for (int i = 1; i <= 10; ++i) {
    auto r = sequence(log_a, msg("r", "u", std::to_string(i), "x"), 0, true);
    REQUIRE(r.status == seq_status::sequenced);
    handed_out.insert(r.seq);
  }
  CHECK(*handed_out.rbegin() == 10);

  REQUIRE(server.command({"FLUSHALL"}).str == "OK");
  obs.watch(b, "r");
  CHECK(sequence(log_b, msg("r", "u", "11", "x"), 10).status == seq_status::needs_seed);

  // Both nodes seed at once, each from a floor covering what was handed out (a's own
  // knowledge: 10; b's store read plus margin: 15). Whatever the interleaving, every seq is
  // new, and the counter only goes up. (The callers have checked the store for their cids:
  // see the next test.)
  constexpr int per_client = 200;
  std::vector<std::future<seq_result>> results;
  for (int i = 0; i < per_client; ++i) {
    for (int side = 0; side < 2; ++side) {
      auto p = std::make_shared<std::promise<seq_result>>();
      results.push_back(p->get_future());
      auto& log = side ? log_b : log_a;
      REQUIRE(log.sequence(msg("r", side ? "b" : "a", std::to_string(i), "y"), side ? 15 : 10,
                           true, true, [p](seq_result&& r) { p->set_value(std::move(r)); }));
    }
  }
  std::set<uint64_t> after;
  for (auto& f : results) {
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r.status == seq_status::sequenced);
    CHECK(r.seq > 10);
    CHECK(after.insert(r.seq).second); // never twice
  }
  CHECK(after.size() == size_t(2 * per_client));
  REQUIRE(obs.got.wait_count(size_t(2 * per_client)));
  auto published = obs.got.items();
  for (size_t i = 1; i < published.size(); ++i)
    CHECK(published[i].seq > published[i - 1].seq);

  // Once seeded, ordinary calls continue; a floor above the counter still wins.
  auto next = sequence(log_a, msg("r", "u", "n", "z"), 0, false, true);
  CHECK(next.status == seq_status::sequenced);
  CHECK(next.seq == *after.rbegin() + 1);
  CHECK(sequence(log_a, msg("r", "u", "m", "z"), 5000, false, true).seq == 5001);
  bool ok = false;
  uint64_t last = 0;
  std::promise<void> got;
  REQUIRE(log_b.last_seq("r", [&](bool o, uint64_t s) {
    ok = o;
    last = s;
    got.set_value();
  }));
  got.get_future().wait();
  CHECK(ok);
  CHECK(last == 5001);
}

TEST_CASE("after a loss, unknown cids are checked against the store for one dedupe window") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.dedupe_window = 5;
  two_nodes nodes(s);
  auto& [obs, a, b, log_a, log_b] = nodes;
  for (int i = 1; i <= 3; ++i) // a new room: nothing to check, nothing remembered as seeded
    REQUIRE(sequence(log_a, msg("r", "u", std::to_string(i), "x"), 0, true).seq == uint64_t(i));
  CHECK(server.command({"EXISTS", "seeded:{r}"}).integer == 0);

  REQUIRE(server.command({"FLUSHALL"}).str == "OK");
  // Cid "2" was numbered before the loss; Redis forgot it. The seeding call itself asks
  // for a check (the counter is written: others go on above the floor meanwhile) ...
  auto first = sequence(log_b, msg("r", "u", "2", "x"), 3, true);
  CHECK(first.status == seq_status::needs_check);
  CHECK(server.command({"GET", "seq:{r}"}).str == "3");
  CHECK(server.command({"GET", "seeded:{r}"}).str == "3");
  // ... and so does any unknown cid, on any client, until the counter passed the floor by
  // the dedupe window; a checked call is numbered, and its cid is known from then on.
  CHECK(sequence(log_a, msg("r", "u", "4", "x")).status == seq_status::needs_check);
  auto fresh = sequence(log_a, msg("r", "u", "4", "x"), 0, false, true);
  REQUIRE(fresh.status == seq_status::sequenced);
  CHECK(fresh.seq == 4);
  auto again = sequence(log_b, msg("r", "u", "4", "x"));
  CHECK(again.status == seq_status::duplicate);
  CHECK(again.seq == 4);
  CHECK(sequence(log_a, msg("r", "", "", "no cid")).seq == 5); // nothing to check
  for (int i = 6; i <= 7; ++i)
    REQUIRE(sequence(log_a, msg("r", "u", std::to_string(i), "x"), 0, false, true).seq
            == uint64_t(i));
  CHECK(sequence(log_a, msg("r", "u", "8", "x")).status == seq_status::needs_check);
  REQUIRE(sequence(log_a, msg("r", "u", "8", "x"), 0, false, true).seq == 8); // 3 + 5
  CHECK(sequence(log_b, msg("r", "u", "9", "x")).seq == 9); // past the window: as before
}

TEST_CASE("sequencing calls wait for the batch delay and share one write") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.batch_delay = 600ms; // a stalled test thread still sends within it; no PING (1 s idle)
  s.command_timeout = 10000ms; // no keepalive PING among the counted writes
  client rc(s);
  rc.start();
  room_log log(rc);
  REQUIRE(test::eventually([&] { return rc.up(); }));
  auto t0 = std::chrono::steady_clock::now();
  // After a quiet spell a call goes at once (seeded: the store holds nothing of the room).
  CHECK(sequence(log, msg("r", "u", "c0", "first"), 0, true, true).seq == 1);
  CHECK(std::chrono::steady_clock::now() - t0 < 200ms);
  auto writes = rc.counters().batches.load();
  mailbox<uint64_t> seqs;
  for (int i = 1; i <= 5; ++i)
    REQUIRE(log.sequence(msg("r", "u", "c" + std::to_string(i), "more"), 0, true, true,
                         [&](seq_result&& r) { seqs.push(r.seq); }));
  REQUIRE(seqs.wait_count(5));
  CHECK(std::chrono::steady_clock::now() - t0 >= 600ms);
  CHECK(rc.counters().batches.load() == writes + 1);
  CHECK(seqs.items() == std::vector<uint64_t>{2, 3, 4, 5, 6});
}

TEST_CASE("gap repair reads a range from the stream and names what it no longer holds") {
  // Small stream nodes so that MAXLEN ~ trims at a fine grain.
  test::redis_server server({"--stream-node-max-entries", "10"});
  auto s = test::test_settings(server);
  s.stream_max = 50;
  client rc(s);
  rc.start();
  room_log log(rc);
  for (int i = 1; i <= 300; ++i)
    REQUIRE(sequence(log, msg("g", "u", std::to_string(i), "t" + std::to_string(i)), 0, true).seq
            == uint64_t(i));
  auto len = server.command({"XLEN", "hist:{g}"}).integer;
  CHECK(len >= 50);
  CHECK(len < 100);

  auto all = fetch(log, "g", 0, 300, 1000);
  REQUIRE(all.ok);
  REQUIRE(!all.messages.empty());
  auto first = all.messages.front().seq;
  CHECK(first > 1);
  CHECK(all.messages.back().seq == 300);
  CHECK(all.messages.size() == 300 - first + 1);
  REQUIRE(all.missing.size() == 1);
  CHECK(all.missing[0] == std::make_pair(uint64_t(1), first - 1));
  for (auto& m : all.messages)
    CHECK(m.text == "t" + std::to_string(m.seq));

  auto tail = fetch(log, "g", 295, 0, 100);
  REQUIRE(tail.ok);
  REQUIRE(tail.messages.size() == 5);
  CHECK(tail.messages[0].seq == 296);
  CHECK(tail.missing.empty());

  auto beyond = fetch(log, "g", 298, 305, 100); // 301..305 do not exist (yet)
  REQUIRE(beyond.ok);
  CHECK(beyond.messages.size() == 2);
  CHECK(beyond.missing == std::vector<std::pair<uint64_t, uint64_t>>{{301, 305}});

  auto page = fetch(log, "g", 280, 300, 5);
  REQUIRE(page.ok);
  CHECK(page.truncated);
  CHECK(page.messages.size() == 5);
  CHECK(page.messages.back().seq == 285);
  CHECK(page.missing.empty());
}

TEST_CASE("odd room names and binary text survive the script, the channel and the stream") {
  test::redis_server server;
  observer obs;
  client rc(test::test_settings(server));
  rc.start();
  room_log log(rc);
  std::string room = "a}b{c%7D}";
  obs.watch(rc, room);
  auto m = msg(room, "u", std::string("c\0:", 3), std::string("1:2:\r\n\0end", 10));
  auto r = sequence(log, m, 0, true);
  REQUIRE(r.status == seq_status::sequenced);
  REQUIRE(obs.got.wait_count(1));
  auto got = obs.got.items()[0];
  CHECK(got.room == room);
  CHECK(got.cid == m.cid);
  CHECK(got.text == m.text);
  auto range = fetch(log, room, 0, 1, 10);
  REQUIRE(range.ok);
  REQUIRE(range.messages.size() == 1);
  CHECK(range.messages[0].text == m.text);
  CHECK(sequence(log, m).status == seq_status::duplicate);
  // A room whose name is another room's escaped name stays a different room.
  CHECK(sequence(log, msg("a%7Db{c%257D%7D", "u", "1", "x"), 0, true).seq == 1);
}
