// End-to-end: rooms come and go. A room with no members stops after chat.room-idle (or at
// once when chat.max-rooms needs its place) and starts again from the store with its seq
// continuing; live rooms never exceed chat.max-rooms and memory stays flat while 1,000
// rooms come and go. With 100,000 idle rooms /healthz and /readyz still answer in
// milliseconds and SIGTERM exits within seconds.
#include "support/eventually.hpp"
#include "support/http_get.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>
#include <vector>

using namespace chat::test;

namespace {

std::chrono::milliseconds time_get(uint16_t port, const std::string& path, int& status) {
  auto t0 = std::chrono::steady_clock::now();
  status = http_get(port, path).status;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                               - t0);
}

} // namespace

TEST_CASE("1,000 rooms one after another stay within chat.max-rooms with flat memory") {
  // Persisted acks (committed after at most 1 ms) make each room idle as soon as it is left.
  node_process node({"--chat.max-rooms=100", "--chat.room-idle=1s", "--storage.batch-delay=1ms"});
  ws_client c(node.port(), "user=walker");
  uint64_t rss_at_300 = 0;
  double most_rooms = 0;
  for (int i = 0; i < 1000; ++i) {
    auto room = "r" + std::to_string(i);
    auto joined = c.join(room);
    REQUIRE(joined.op() == "joined");
    REQUIRE(joined.u64("seq") == 0);
    c.send(send_frame(room, "hello " + room, "c" + std::to_string(i), "persisted"));
    REQUIRE(c.next_op("ack").u64("seq") == 1);
    c.send(R"({"op":"leave","room":")" + room + R"("})");
    REQUIRE(c.next_op("left").str("room") == room);
    if (i % 50 == 0)
      most_rooms = std::max(most_rooms, metric(node.admin_port(), "chat_rooms"));
    if (i == 300)
      rss_at_300 = rss_kib(node.pid());
  }
  auto rss_at_1000 = rss_kib(node.pid());
  WARN("RSS after 300 rooms: " << rss_at_300 << " KiB, after 1000: " << rss_at_1000 << " KiB");
  CHECK(most_rooms <= 100);
  CHECK(metric(node.admin_port(), "chat_rooms") <= 100);
  CHECK(metric(node.admin_port(), "chat_rooms_refused_total") == 0);
  CHECK(metric(node.admin_port(), "chat_rooms_stopped_total") >= 900);
  // Flat: 700 more rooms through the node leave no trace beyond allocator noise.
  if (rss_is_meaningful)
    CHECK(rss_at_1000 < rss_at_300 + 8 * 1024);

  // A room revisited long after it stopped continues its seq, and remembers its cids.
  c.join("r0");
  c.send(send_frame("r0", "hello r0", "c0", "persisted"));
  CHECK(c.next_op("ack").u64("seq") == 1);
  c.send(send_frame("r0", "again", "c-new", "persisted"));
  CHECK(c.next_op("ack").u64("seq") == 2);
  c.send(R"({"op":"history","room":"r0"})");
  auto h = c.next_op("history");
  REQUIRE(h.at("messages").Size() == 2);
  CHECK(std::string(h.at("messages")[0]["text"].GetString()) == "hello r0");

  // Without members, the idle timer stops the room after chat.room-idle.
  c.send(R"({"op":"leave","room":"r0"})");
  c.next_op("left");
  auto stopped = metric(node.admin_port(), "chat_rooms_stopped_total");
  CHECK(eventually([&] { return metric(node.admin_port(), "chat_rooms") == 0; }));
  CHECK(metric(node.admin_port(), "chat_rooms_stopped_total") > stopped);
  CHECK(node.stop() == 0);
}

TEST_CASE("100,000 idle rooms: health answers in milliseconds, SIGTERM within seconds") {
  constexpr int rooms = 100000, batch = 500;
  node_process node({"--chat.room-idle=1h", "--chat.rate-limit=10000000",
                     "--chat.rate-burst=10000000"});
  ws_client c(node.port(), "user=creator");
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::milliseconds worst_health{0};
  for (int base = 0; base < rooms; base += batch) {
    for (int i = base; i < base + batch; ++i) {
      auto room = "idle-" + std::to_string(i);
      c.send(R"({"op":"join","room":")" + room + R"("})");
      c.send(R"({"op":"leave","room":")" + room + R"("})");
    }
    // Rooms start independently: replies of different rooms may come in any order.
    int joined = 0, left = 0;
    for (int i = 0; i < 2 * batch; ++i) {
      auto op = c.next(std::chrono::milliseconds(30000)).op();
      joined += op == "joined";
      left += op == "left";
    }
    REQUIRE(joined == batch);
    REQUIRE(left == batch);
    if ((base / batch) % 20 == 0) {
      int status = 0;
      worst_health = std::max(worst_health, time_get(node.admin_port(), "/healthz", status));
      REQUIRE(status == 200);
    }
  }
  auto created = std::chrono::steady_clock::now() - t0;
  REQUIRE(metric(node.admin_port(), "chat_rooms") == rooms);
  auto rss = rss_kib(node.pid());
  // A few sampler rounds over idle rooms, then health under load of nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  std::vector<std::chrono::milliseconds> took;
  for (int i = 0; i < 20; ++i) {
    int status = 0;
    took.push_back(time_get(node.admin_port(), "/healthz", status));
    CHECK(status == 200);
    took.push_back(time_get(node.admin_port(), "/readyz", status));
    CHECK(status == 200);
  }
  std::sort(took.begin(), took.end());
  auto median = took[took.size() / 2];
  WARN("100,000 rooms created in "
       << std::chrono::duration_cast<std::chrono::milliseconds>(created).count()
       << " ms; RSS " << rss / 1024 << " MiB; /healthz and /readyz median " << median.count()
       << " ms, slowest " << took.back().count() << " ms (during creation "
       << worst_health.count() << " ms)");
  // The median: a health check that walked the rooms would be slow every time, while one
  // slow answer is the scheduler of a loaded (or sanitized) test machine.
  CHECK(median < std::chrono::milliseconds(50));
  c.close();
  auto s0 = std::chrono::steady_clock::now();
  CHECK(node.stop() == 0);
  auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - s0);
  WARN("SIGTERM with 100,000 rooms took " << stop_ms.count() << " ms");
  CHECK(stop_ms < std::chrono::seconds(5) * sanitizer_slowdown);
}
