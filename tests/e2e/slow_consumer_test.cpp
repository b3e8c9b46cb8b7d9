// End-to-end: a member that stops reading is disconnected once its outbound queue passes
// net.queue-bytes, while the room keeps flowing for everyone else.
#include "support/http_get.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace chat::test;

TEST_CASE("a client that stops reading is dropped; the others receive everything") {
  constexpr int messages = 4000;
  node_process node({"--storage.backend=memory", "--net.queue-bytes=65536",
                     "--chat.rate-limit=100000", "--chat.rate-burst=100000"});
  ws_client sender(node.port(), "user=sender");
  ws_client reader(node.port(), "user=reader");
  ws_client slow(node.port(), "user=slow");
  for (auto* c : {&sender, &reader, &slow}) {
    c->join("busy");
  }

  std::string reader_problem;
  std::atomic<uint64_t> reader_seen{0};
  std::atomic<bool> reader_done{false};
  std::thread reading([&] {
    struct mark_done {
      std::atomic<bool>& done;
      ~mark_done() { done = true; }
    } guard{reader_done};
    try {
      for (uint64_t expect = 1; expect <= messages; ++expect, ++reader_seen) {
        auto m = reader.next_op("msg", std::chrono::milliseconds(20000));
        if (m.u64("seq") != expect) {
          reader_problem = "seq " + std::to_string(m.u64("seq")) + " instead of "
                           + std::to_string(expect);
          return;
        }
      }
    } catch (const std::exception& e) {
      reader_problem = e.what();
    }
  });

  // The sender reads its own acks every 10 messages so that it is not a slow consumer too.
  const std::string text(2000, 'x');
  std::string sender_problem;
  try {
    for (int batch = 0; batch < messages / 10; ++batch) {
      // The reader is a healthy consumer: it never falls more than 20 messages behind
      // (40 KB, inside net.queue-bytes alone), whatever else runs on the machine.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (uint64_t(batch * 10) > reader_seen + 20 && !reader_done
             && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      for (int k = 0; k < 10; ++k)
        sender.send(send_frame("busy", text, std::to_string(batch * 10 + k)));
      for (int k = 0; k < 10; ++k)
        sender.next_op("ack", std::chrono::milliseconds(20000));
    }
  } catch (const std::exception& e) {
    sender_problem = e.what();
  }
  reading.join();
  CHECK(sender_problem == "");
  CHECK(reader_problem == "");

  // The slow client finds its connection closed after the frames that did get through.
  // (Its close frame rarely gets through a full socket; the node's own count says why.)
  std::string reason;
  CHECK(slow.closed_within(std::chrono::milliseconds(20000), &reason));
  if (!reason.empty())
    CHECK(reason == "slow consumer");
  auto metrics = http_get(node.admin_port(), "/metrics").body;
  CHECK(metrics.find("\nchat_slow_consumer_drops_total 1\n") != std::string::npos);
  auto conns = http_get(node.admin_port(), "/admin/connections").body;
  CHECK(conns.find("\"user\":\"slow\"") == std::string::npos);
  CHECK(conns.find("\"user\":\"reader\"") != std::string::npos);

  // The room still works for the others.
  sender.send(send_frame("busy", "still here", "last"));
  CHECK(reader.next_op("msg").str("text") == "still here");
}

// A frame cut by a full socket is finished from where it stopped: a member that pauses
// while 18 MB are sent to it (loopback buffers hold about 4 MB: a 30 KB frame is cut where
// the socket filled) gets every frame whole and in order once it reads again.
TEST_CASE("a client that pauses reading gets every frame whole once it resumes") {
  constexpr int messages = 600;
  node_process node({"--storage.backend=memory", "--net.queue-bytes=33554432",
                     "--chat.rate-limit=100000", "--chat.rate-burst=100000"});
  ws_client sender(node.port(), "user=sender");
  ws_client paused(node.port(), "user=paused");
  sender.join("pause");
  paused.join("pause");

  const std::string text(30000, 'y');
  for (int batch = 0; batch < messages / 10; ++batch) {
    for (int k = 0; k < 10; ++k)
      sender.send(send_frame("pause", text, std::to_string(batch * 10 + k)));
    for (int k = 0; k < 20; ++k) // the sender reads its own copies and acks
      sender.next(std::chrono::milliseconds(20000));
  }
  for (uint64_t expect = 1; expect <= messages; ++expect) {
    auto m = paused.next_op("msg", std::chrono::milliseconds(20000));
    REQUIRE(m.u64("seq") == expect);
    REQUIRE(m.str("text") == text);
  }
  CHECK(!paused.closed_within(std::chrono::milliseconds(100)));
}
