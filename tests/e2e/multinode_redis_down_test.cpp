// End-to-end: two nodes sharing a redis-server that dies (kill -9, restarted empty) or is
// flushed mid-run. While it is down sends get `unavailable` within
// redis.unavailable-timeout and /readyz answers 503; once it is back the nodes reconnect,
// resubscribe, re-seed each room's counter from the shared store, and go on numbering
// above every seq handed out before: no seq is ever reused, members on both nodes keep
// seeing one gap-free order.
#include "support/eventually.hpp"
#include "support/http_get.hpp"
#include "support/multinode.hpp"

#include <catch2/catch.hpp>

using namespace chat::test;

namespace {

// Sends `n` messages from `from` (cids prefix + k) and checks that it and `other` see them
// with the next seqs after `last`, in order. Returns the new last seq.
uint64_t exchange(ws_client& from, ws_client& other, const std::string& prefix, int n,
                  uint64_t last) {
  for (int k = 0; k < n; ++k)
    from.send(send_frame("r", prefix + std::to_string(k), prefix + std::to_string(k)));
  std::vector<frame> msgs;
  for (int acks = 0; acks < n || int(msgs.size()) < n;) {
    auto f = from.next(std::chrono::milliseconds(10000));
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
    msgs.push_back(other.next_op("msg", std::chrono::milliseconds(10000)));
  for (size_t i = 0; i < msgs.size(); ++i) {
    size_t k = i % size_t(n);
    REQUIRE(msgs[i].u64("seq") == last + 1 + k);
    CHECK(msgs[i].str("text") == prefix + std::to_string(k));
  }
  return last + uint64_t(n);
}

bool ready(uint16_t admin_port) {
  return http_get(admin_port, "/readyz").status == 200;
}

} // namespace

TEST_CASE("Redis killed and restarted empty, then flushed: no seq reused, order kept") {
  redis_server redis;
  node_group c(redis.uri(), 2, {"--redis.unavailable-timeout=500ms"});
  REQUIRE(eventually([&] { return ready(c.admin_port(0)) && ready(c.admin_port(1)); }));
  ws_client a(c.port(0), "user=alice");
  ws_client b(c.port(1), "user=bob");
  a.join("r");
  b.join("r");
  uint64_t last = exchange(a, b, "before-", 20, 0);

  redis.kill9();
  CHECK(eventually([&] { return !ready(c.admin_port(0)) && !ready(c.admin_port(1)); }));
  auto t0 = std::chrono::steady_clock::now();
  a.send(send_frame("r", "while down", "down-1"));
  auto err = a.next_op("error", std::chrono::milliseconds(5000));
  CHECK(err.str("code") == "unavailable");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(3000));

  redis.restart();
  REQUIRE(eventually([&] { return ready(c.admin_port(0)) && ready(c.admin_port(1)); }));
  // Redis lost the counter: the next messages are numbered above the stored maximum.
  last = exchange(b, a, "after-restart-", 20, last);
  // The refused send was never sequenced: its retry (same cid) gets the next seq now.
  a.send(send_frame("r", "while down", "down-1"));
  CHECK(b.next_op("msg", std::chrono::milliseconds(10000)).u64("seq") == last + 1);
  CHECK(a.next_op("ack", std::chrono::milliseconds(10000)).u64("seq") == last + 1);
  ++last;

  redis.command({"FLUSHALL"});
  last = exchange(a, b, "after-flush-", 20, last);
  last = exchange(b, a, "after-flush-b-", 20, last);

  // History on both nodes: every seq once, 1..last.
  for (size_t n = 0; n < 2; ++n) {
    ws_client reader(c.port(n), "user=reader" + std::to_string(n));
    reader.join("r");
    std::vector<std::pair<uint64_t, std::string>> h;
    REQUIRE(eventually([&] {
      h = history_of(reader, "r");
      return h.size() >= last;
    }));
    REQUIRE(h.size() == last);
    for (size_t k = 0; k < h.size(); ++k)
      CHECK(h[k].first == k + 1);
  }
}
