// End-to-end: catch-up always fits. A member joining with since=0 a room of 200 messages
// of 60 KB gets all of them with the default net.queue-bytes (the replay is paged and
// paced by the connection's queue; what the byte-bounded ring no longer holds is read
// from the store in pages); history pages are bounded in bytes and page on to the start;
// memory stays under its bound when maximum-size messages flow into many rooms.
#include "support/http_get.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace chat::test;

namespace {

// A text of `bytes` bytes that names its number (so order and content are checked).
std::string big_text(int i, size_t bytes) {
  auto head = "message " + std::to_string(i) + " ";
  return head + std::string(bytes - head.size(), char('a' + i % 26));
}

// Sends `count` messages of `bytes` bytes, one at a time (each acked before the next).
void send_big(ws_client& c, const std::string& room, int first, int count, size_t bytes,
              const std::string& ack = "") {
  for (int i = first; i < first + count; ++i) {
    c.send(send_frame(room, big_text(i, bytes), room + "-" + std::to_string(i), ack));
    REQUIRE(c.next_op("ack", std::chrono::milliseconds(30000)).u64("seq") == uint64_t(i));
  }
}

} // namespace

TEST_CASE("since=0 replays 200 messages of 60 KB to a new member without dropping it") {
  constexpr int count = 200;
  constexpr size_t bytes = 60 * 1024;
  node_process node;
  {
    ws_client writer(node.port(), "user=writer");
    writer.join("big");
    send_big(writer, "big", 1, count, bytes);
  }
  // 12 MB of history against a 4 MiB queue: without pacing the replay overflows it.
  ws_client late(node.port(), "user=late");
  late.send(R"({"op":"join","room":"big","since":0})");
  CHECK(late.next_op("joined").u64("seq") == count);
  for (int i = 1; i <= count; ++i) {
    auto m = late.next_op("msg", std::chrono::milliseconds(30000));
    REQUIRE(m.u64("seq") == uint64_t(i));
    REQUIRE(m.str("text") == big_text(i, bytes));
  }
  CHECK(metric(node.admin_port(), "chat_slow_consumer_drops_total") == 0);
  // Caught up, the member is live: the next message reaches it as it is sent.
  ws_client writer(node.port(), "user=writer");
  writer.join("big");
  writer.send(send_frame("big", "live again", "live-1"));
  CHECK(late.next_op("msg").str("text") == "live again");

  // History pages are bounded in bytes (a client pages on with `before`); all 200 come.
  std::vector<uint64_t> seen;
  uint64_t before = 0;
  for (int pages = 0; pages < 100; ++pages) {
    late.send(R"({"op":"history","room":"big","limit":500)"
              + (before ? ",\"before\":" + std::to_string(before) : std::string()) + "}");
    auto page = late.next_op("history", std::chrono::milliseconds(30000));
    auto& msgs = page.at("messages");
    if (msgs.Size() == 0)
      break;
    REQUIRE(page.raw.size() < 4 * 1024 * 1024 / 2);
    std::vector<uint64_t> chunk;
    for (auto& m : msgs.GetArray())
      chunk.push_back(m["seq"].GetUint64());
    seen.insert(seen.begin(), chunk.begin(), chunk.end());
    before = chunk.front();
  }
  REQUIRE(seen.size() == count + 1);
  for (size_t i = 0; i < seen.size(); ++i)
    CHECK(seen[i] == i + 1);
}

TEST_CASE("the same replay with a small queue and a slow reader is paced, not dropped") {
  constexpr int count = 60;
  constexpr size_t bytes = 30 * 1024;
  node_process node({"--net.queue-bytes=256KiB", "--chat.room-ring-bytes=128KiB"});
  {
    ws_client writer(node.port(), "user=writer");
    writer.join("paced");
    send_big(writer, "paced", 1, count, bytes, "persisted");
  }
  ws_client late(node.port(), "user=late");
  late.send(R"({"op":"join","room":"paced","since":0})");
  late.next_op("joined");
  for (int i = 1; i <= count; ++i) {
    if (i % 10 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(50)); // let the queue fill
    REQUIRE(late.next_op("msg", std::chrono::milliseconds(30000)).u64("seq") == uint64_t(i));
  }
  CHECK(metric(node.admin_port(), "chat_slow_consumer_drops_total") == 0);
}

TEST_CASE("maximum-size messages into many rooms keep the rings under chat.memory-max") {
  constexpr int rooms = 40, per_room = 25;
  constexpr size_t bytes = 60 * 1024;
  // Memory only: the rings are all there is, so nothing but their bound limits them.
  node_process node({"--storage.backend=memory", "--chat.memory-max=8MiB",
                     "--chat.room-ring-bytes=1MiB", "--chat.max-rooms=40"});
  ws_client c(node.port(), "user=flood");
  for (int r = 0; r < rooms; ++r)
    c.join("m" + std::to_string(r));
  auto before = rss_kib(node.pid());
  for (int r = 0; r < rooms; ++r)
    send_big(c, "m" + std::to_string(r), 1, per_room, bytes);
  auto after = rss_kib(node.pid());
  auto ring = metric(node.admin_port(), "chat_ring_bytes");
  WARN("60 MB sent into 40 rooms: RSS " << before / 1024 << " -> " << after / 1024
       << " MiB, rings " << ring / (1 << 20) << " MiB");
  // Each ring entry holds the text and its encoded frame; one entry may pass the bound.
  CHECK(ring <= 8 * (1 << 20) + 2 * 70 * 1024);
  // Growth: the rings' bound plus allocator slack, nowhere near the 60 MB (120 MB with
  // frames) that went through.
  if (rss_is_meaningful)
    CHECK(after < before + 8 * 1024 + 24 * 1024);
}
