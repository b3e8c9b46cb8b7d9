// End-to-end: two nodes sharing Redis — a single redis-server, or the master of a 3-master
// Redis Cluster that owns the room's slot — that dies (kill -9, restarted empty; a cluster
// master keeps its nodes.conf and rejoins owning its slots) or is flushed mid-run. While it
// is down sends to the room get `unavailable` within redis.unavailable-timeout and /readyz
// answers 503 (on a cluster too: the node cannot serve every room); rooms on the cluster's
// other masters keep working. Once it is back the nodes reconnect, resubscribe, re-seed the
// room's counter from the shared store, and go on numbering above every seq handed out
// before: no seq is ever reused, members on both nodes keep seeing one gap-free order.
#include "net/redis/room_log.hpp"
#include "net/redis/slot_map.hpp"
#include "support/eventually.hpp"
#include "support/http_get.hpp"
#include "support/multinode.hpp"
#include "support/node_probes.hpp"

#include <catch2/catch.hpp>

#include <functional>

using namespace chat::test;

namespace {

using std::chrono::milliseconds;

// Sends `n` messages from `from` to `room` (cids prefix + k) and checks that it and `other`
// see them with the next seqs after `last`, in order. Returns the new last seq.
uint64_t exchange(ws_client& from, ws_client& other, const std::string& room,
                  const std::string& prefix, int n, uint64_t last) {
  for (int k = 0; k < n; ++k)
    from.send(send_frame(room, prefix + std::to_string(k), prefix + std::to_string(k)));
  std::vector<frame> msgs;
  for (int acks = 0; acks < n || int(msgs.size()) < n;) {
    auto f = from.next(milliseconds(10000));
    if (f.op() == "ack") {
      CHECK(f.u64("seq") > last);
      ++acks;
    } else if (f.op() == "msg") {
      msgs.push_back(f);
    } else if (f.op() == "error") {
      FAIL("error: " << f.raw);
    }
  }
  for (int k = 0; k < n; ++k)
    msgs.push_back(other.next_op("msg", milliseconds(10000)));
  for (size_t i = 0; i < msgs.size(); ++i) {
    size_t k = i % size_t(n);
    CHECK(msgs[i].str("room") == room);
    REQUIRE(msgs[i].u64("seq") == last + 1 + k);
    CHECK(msgs[i].str("text") == prefix + std::to_string(k));
  }
  return last + uint64_t(n);
}

bool ready(uint16_t admin_port) {
  return http_get(admin_port, "/readyz").status == 200;
}

// Every node's history of `room` is seq 1..last, each once.
void history_is_gap_free(node_group& c, const std::string& room, uint64_t last) {
  for (size_t n = 0; n < c.nodes.size(); ++n) {
    ws_client reader(c.port(n), "user=reader" + std::to_string(n));
    reader.join(room);
    std::vector<std::pair<uint64_t, std::string>> h;
    REQUIRE(eventually([&] {
      h = history_of(reader, room);
      return h.size() >= last;
    }));
    REQUIRE(h.size() == last);
    for (size_t k = 0; k < h.size(); ++k)
      CHECK(h[k].first == k + 1);
  }
}

// The Redis that holds room "r", and what the scenario does to it.
struct redis_for_room {
  std::string uri;
  std::function<void()> kill, restart;
  std::function<chat::redis::reply(const std::vector<std::string>&)> command; // on that server
  std::string other_room; // a room on a master that stays up ("" on a single server)
};

void lost_restarted_and_flushed(const redis_for_room& redis) {
  node_group c(redis.uri, 2, {"--redis.unavailable-timeout=500ms"});
  REQUIRE(eventually([&] { return ready(c.admin_port(0)) && ready(c.admin_port(1)); }));
  ws_client a(c.port(0), "user=alice");
  ws_client b(c.port(1), "user=bob");
  a.join("r");
  b.join("r");
  const auto& other = redis.other_room;
  uint64_t other_last = 0;
  if (!other.empty()) {
    a.join(other);
    b.join(other);
    other_last = exchange(a, b, other, "other-before-", 5, other_last);
  }
  uint64_t last = exchange(a, b, "r", "before-", 20, 0);

  redis.kill();
  CHECK(eventually([&] { return !ready(c.admin_port(0)) && !ready(c.admin_port(1)); }));
  auto t0 = std::chrono::steady_clock::now();
  a.send(send_frame("r", "while down", "down-1"));
  auto err = a.next_op("error", milliseconds(5000));
  auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(err.str("code") == "unavailable");
  CHECK(waited >= milliseconds(400)); // it waited for Redis (500 ms) ...
  CHECK(waited < milliseconds(3000)); // ... and no longer
  if (!other.empty()) { // the other masters still sequence their rooms, from both nodes
    other_last = exchange(a, b, other, "other-while-down-a-", 5, other_last);
    other_last = exchange(b, a, other, "other-while-down-b-", 5, other_last);
  }

  redis.restart();
  CHECK(redis.command({"EXISTS", chat::redis::keys_for("r").seq}).integer == 0); // counter lost
  REQUIRE(eventually([&] { return ready(c.admin_port(0)) && ready(c.admin_port(1)); }));
  // Redis lost the counter: the next messages are numbered above the stored maximum.
  last = exchange(b, a, "r", "after-restart-", 20, last);
  // The refused send was never sequenced: its retry (same cid) gets the next seq now.
  a.send(send_frame("r", "while down", "down-1"));
  CHECK(b.next_op("msg", milliseconds(10000)).u64("seq") == last + 1);
  CHECK(a.next_op("ack", milliseconds(10000)).u64("seq") == last + 1);
  ++last;

  redis.command({"FLUSHALL"});
  last = exchange(a, b, "r", "after-flush-", 20, last);
  last = exchange(b, a, "r", "after-flush-b-", 20, last);

  history_is_gap_free(c, "r", last);
  if (!other.empty())
    history_is_gap_free(c, other, other_last);
}

// Alice's message "x" is numbered and acked, then forgotten by both nodes' rooms (a
// dedupe window of one message) and by Redis (FLUSHALL): her retry of it on the other node
// must still get its original seq (the store holds it), not a second one.
void retry_after_loss_gets_original_seq(const std::string& uri,
                                        const std::function<void()>& flush) {
  node_group c(uri, 2, {"--chat.dedupe-window=1"});
  ws_client a(c.port(0), "user=alice");
  ws_client b(c.port(1), "user=bob");
  a.join("r");
  b.join("r");
  uint64_t last = exchange(a, b, "r", "m", 2, 0); // cids m0 (seq 1), m1 (seq 2)
  REQUIRE(eventually([&] { return history_of(b, "r").size() == last; }));

  flush();
  ws_client again(c.port(1), "user=alice");
  again.join("r");
  again.send(send_frame("r", "m0", "m0"));
  auto ack = again.next_op("ack", milliseconds(10000));
  CHECK(ack.u64("seq") == 1);
  again.send(send_frame("r", "another text", "m1")); // (the room's window knows m1)
  auto err = again.next_op("error", milliseconds(10000));
  CHECK(err.str("code") == "conflict");
  last = exchange(again, b, "r", "new", 1, last); // a new cid: the next seq
  CHECK(metric(c.admin_port(1), "chat_redis_cid_checks_total") == 2); // m0, new0
  history_is_gap_free(c, "r", last);
  auto h = history_of(b, "r");
  REQUIRE(h.size() == 3);
  CHECK(h[0].second == "m0");
  CHECK(h[2].second == "new0");
}

int slot_of_room(const std::string& room) {
  return chat::redis::key_slot(chat::redis::keys_for(room).seq);
}

} // namespace

TEST_CASE("Redis killed and restarted empty, then flushed: no seq reused, order kept") {
  redis_server redis;
  lost_restarted_and_flushed({redis.uri(), [&] { redis.kill9(); }, [&] { redis.restart(); },
                              [&](auto& args) { return redis.command(args); }, ""});
}

TEST_CASE("the room's cluster master killed, restarted empty, then flushed: the same") {
  redis_cluster cluster;
  size_t master = cluster.owner_of(slot_of_room("r"));
  std::string other;
  for (int k = 0; other.empty(); ++k)
    if (cluster.owner_of(slot_of_room("o" + std::to_string(k))) != master)
      other = "o" + std::to_string(k);
  lost_restarted_and_flushed({cluster.uri(), [&] { cluster.node(master).kill9(); },
                              [&] { cluster.restart(master); },
                              [&](auto& args) { return cluster.node(master).command(args); },
                              other});
}

TEST_CASE("a retry of a message numbered before Redis lost its data gets its original seq") {
  redis_server redis;
  retry_after_loss_gets_original_seq(redis.uri(), [&] { redis.command({"FLUSHALL"}); });
}

TEST_CASE("the same when the room's cluster master lost its data") {
  redis_cluster cluster;
  size_t master = cluster.owner_of(slot_of_room("r"));
  retry_after_loss_gets_original_seq(cluster.uri(),
                                     [&] { cluster.node(master).command({"FLUSHALL"}); });
}
