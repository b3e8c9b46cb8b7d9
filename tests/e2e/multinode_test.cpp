// End-to-end: three chatd processes sharing one redis-server (started by the fixture on a
// free port) and one SQLite storage directory behave as one chat: members on every node
// see one room's messages in the same seq order, without gaps or duplicates; history is
// the same on every node; a cid retried on another node gets its original seq; the Redis
// client's counters are on /metrics.
#include "support/multinode.hpp"
#include "support/node_probes.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <thread>

using namespace chat::test;

namespace {

// 3 nodes, 2 members each in one room, every member sending 500 messages (at most 50
// unacked): every member sees seq 1..3000 in the same order, every node the same history.
void one_room_on_three_nodes(const std::string& redis_uri) {
  constexpr size_t node_count = 3, per_node = 2, per_sender = 500, window = 50;
  constexpr uint64_t total = node_count * per_node * per_sender;
  node_group c(redis_uri, node_count);

  std::vector<std::unique_ptr<ws_client>> clients;
  for (size_t i = 0; i < node_count * per_node; ++i) {
    clients.push_back(
      std::make_unique<ws_client>(c.port(i % node_count), "user=u" + std::to_string(i)));
    clients.back()->join("all");
  }

  std::vector<std::string> problems(clients.size());
  std::vector<std::vector<std::string>> seen(clients.size()); // texts in seq order
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&, i] {
      auto& cl = *clients[i];
      size_t sent = 0, acks = 0;
      uint64_t expect = 1;
      try {
        auto send_more = [&] {
          while (sent < per_sender && sent - acks < window) {
            cl.send(send_frame("all", "u" + std::to_string(i) + "-" + std::to_string(sent),
                               std::to_string(sent)));
            ++sent;
          }
        };
        send_more();
        while (expect <= total || acks < per_sender) {
          auto f = cl.next(std::chrono::milliseconds(20000));
          auto op = f.op();
          if (op == "ack") {
            ++acks;
            send_more();
          } else if (op == "msg") {
            auto seq = f.u64("seq");
            if (seq != expect) {
              problems[i] = "expected seq " + std::to_string(expect) + ", got " + std::to_string(seq);
              return;
            }
            seen[i].push_back(f.str("text"));
            ++expect;
          } else if (op == "error") {
            problems[i] = "error frame: " + f.raw;
            return;
          }
        }
      } catch (const std::exception& e) {
        problems[i] = std::string(e.what()) + " (sent " + std::to_string(sent) + ", acks "
                      + std::to_string(acks) + ", next seq " + std::to_string(expect) + ")";
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (size_t i = 0; i < problems.size(); ++i)
    if (!problems[i].empty())
      FAIL_CHECK("client " << i << " (node " << i % node_count << "): " << problems[i]);
  if (std::any_of(problems.begin(), problems.end(), [](auto& p) { return !p.empty(); })) {
    for (size_t n = 0; n < node_count; ++n)
      WARN("node " << n << ":\n" << c.nodes[n]->stderr_text());
    FAIL("see above");
  }
  for (size_t i = 1; i < seen.size(); ++i)
    REQUIRE(seen[i] == seen[0]);
  std::set<std::string> distinct(seen[0].begin(), seen[0].end());
  CHECK(distinct.size() == total);

  // Each node sent at least one script call per message of its senders, pipelined: up to
  // 100 unacked sends per node put several commands in one socket write.
  for (size_t n = 0; n < node_count; ++n) {
    auto commands = metric(c.admin_port(n), "chat_redis_commands_total");
    auto writes = metric(c.admin_port(n), "chat_redis_writes_total");
    CHECK(commands >= double(per_node * per_sender));
    CHECK(writes > 0);
    CHECK(writes < commands);
  }

  // Every node serves the same history (each message stored once, by the node that
  // sequenced it; the store is shared). Stores are lazy: wait for the last writes.
  for (size_t n = 0; n < node_count; ++n) {
    ws_client reader(c.port(n), "user=reader" + std::to_string(n));
    reader.join("all");
    std::vector<std::pair<uint64_t, std::string>> h;
    for (int attempt = 0; attempt < 100; ++attempt) {
      h = history_of(reader, "all");
      if (h.size() >= total)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(h.size() == total);
    for (size_t k = 0; k < h.size(); ++k) {
      REQUIRE(h[k].first == k + 1);
      REQUIRE(h[k].second == seen[0][k]);
    }
  }
}

} // namespace

TEST_CASE("3 nodes, one room: 3,000 messages from every node in one order everywhere") {
  redis_server redis;
  one_room_on_three_nodes(redis.uri());
}

TEST_CASE("the same on a 3-master Redis Cluster (sharded pub/sub)") {
  redis_cluster cluster;
  one_room_on_three_nodes(cluster.uri());
}

TEST_CASE("a cid retried on another node gets its original seq, a reused one a conflict") {
  redis_server redis;
  node_group c(redis.uri(), 2);
  ws_client a(c.port(0), "user=alice");
  ws_client b(c.port(1), "user=alice");
  ws_client watcher(c.port(1), "user=bob");
  a.join("dedupe");
  b.join("dedupe");
  watcher.join("dedupe");
  a.send(send_frame("dedupe", "hello", "c1"));
  auto first = a.next_op("ack");
  b.send(send_frame("dedupe", "hello", "c1"));
  auto again = b.next_op("ack");
  CHECK(again.u64("seq") == first.u64("seq"));
  b.send(send_frame("dedupe", "other text", "c1"));
  CHECK(b.next_op("error").str("code") == "conflict");
  // The watcher on the other node saw the message once.
  auto m = watcher.next_op("msg");
  CHECK(m.u64("seq") == first.u64("seq"));
  b.send(send_frame("dedupe", "next", "c2"));
  CHECK(b.next_op("ack").u64("seq") == first.u64("seq") + 1);
  auto m2 = watcher.next_op("msg");
  CHECK(m2.u64("seq") == first.u64("seq") + 1);
}

// Node 1's room remembers 4 cids (chat.dedupe-window), Redis 1,000: once 10 newer
// messages have passed, only Redis knows c9 there. A text Redis refused must not stay in
// node 1's cid index, or the original's retry would be refused by the index.
TEST_CASE("after a refused text, a retry of the original on that node gets its seq") {
  redis_server redis;
  node_group c(redis.uri(), 2, {"--chat.dedupe-window=4", "--redis.dedupe-window=1000"});
  ws_client a(c.port(0), "user=carol");
  ws_client b(c.port(1), "user=carol");
  a.join("late");
  b.join("late");
  a.send(send_frame("late", "original", "c9"));
  auto first = a.next_op("ack");
  for (int i = 0; i < 10; ++i) {
    a.send(send_frame("late", "later " + std::to_string(i), "n" + std::to_string(i)));
    a.next_op("ack");
  }
  b.send(send_frame("late", "another text", "c9"));
  CHECK(b.next_op("error").str("code") == "conflict");
  b.send(send_frame("late", "original", "c9"));
  CHECK(b.next_op("ack").u64("seq") == first.u64("seq"));
}

TEST_CASE("join with since on another node replays what other nodes sequenced") {
  redis_server redis;
  node_group c(redis.uri(), 2);
  ws_client a(c.port(0), "user=alice");
  a.join("replay");
  for (int i = 0; i < 20; ++i)
    a.send(send_frame("replay", "m" + std::to_string(i), std::to_string(i)));
  for (int i = 0; i < 20; ++i)
    a.next_op("ack");
  ws_client b(c.port(1), "user=bob");
  b.send(R"({"op":"join","room":"replay","since":5})");
  b.next_op("joined");
  for (uint64_t s = 6; s <= 20; ++s) {
    auto m = b.next_op("msg");
    REQUIRE(m.u64("seq") == s);
    CHECK(m.str("text") == "m" + std::to_string(s - 1));
  }
}
