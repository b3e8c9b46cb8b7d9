// End-to-end: a send whose sequencing script ran in Redis but whose reply was lost (the node
// talks to Redis through a relay that swallows the replies on its command connection). The
// members on that node get the message (an orphan: from the channel's copy, or repaired
// after the counter read that a lost reply triggers), in order, without waiting for a later
// one; the sender gets `unavailable`, and its retry with the same cid is acked with the
// original seq and delivered to nobody twice.
#include "support/eventually.hpp"
#include "support/http_get.hpp"
#include "support/multinode.hpp"
#include "support/tcp_relay.hpp"

#include <catch2/catch.hpp>

using namespace chat::test;

TEST_CASE("A lost sequencing reply: the node's members still get the message, once") {
  redis_server redis;
  tcp_relay relay(redis.port(), "EVALSHA");
  node_group c("redis://127.0.0.1:" + std::to_string(relay.port()), 1,
               {"--redis.command-timeout=300ms"});
  REQUIRE(eventually([&] { return http_get(c.admin_port(0), "/readyz").status == 200; }));
  ws_client a(c.port(0), "user=alice");
  ws_client w(c.port(0), "user=watcher");
  a.join("r");
  w.join("r");
  a.send(send_frame("r", "first", "c1"));
  CHECK(a.next_op("ack").u64("seq") == 1);
  CHECK(w.next_op("msg").u64("seq") == 1);

  relay.drop_replies(true);
  a.send(send_frame("r", "second", "c2"));
  auto err = a.next_op("error", std::chrono::milliseconds(10000));
  CHECK(err.str("code") == "unavailable");
  CHECK(relay.dropped_bytes() > 0);
  // The script ran: seq 2 exists, and reaches the watcher with nothing sent after it.
  auto m = w.next_op("msg", std::chrono::milliseconds(10000));
  CHECK(m.u64("seq") == 2);
  CHECK(m.str("text") == "second");
  CHECK(redis.command({"GET", "seq:{r}"}).str == "2");

  relay.drop_replies(false);
  // The retry: acked with seq 2 (the cluster-wide dedupe), not numbered again.
  a.send(send_frame("r", "second", "c2"));
  CHECK(a.next_op("ack", std::chrono::milliseconds(10000)).u64("seq") == 2);
  a.send(send_frame("r", "third", "c3"));
  CHECK(a.next_op("ack", std::chrono::milliseconds(10000)).u64("seq") == 3);
  auto next = w.next_op("msg", std::chrono::milliseconds(10000));
  CHECK(next.u64("seq") == 3);
  CHECK(next.str("text") == "third");
}
