// End-to-end chaos, bounded to about 20 s: three nodes sharing Redis (a redis-server, or a
// 3-master Redis Cluster) and one SQLite directory; three clients send with persisted acks
// while random nodes are killed (-9) and restarted and Redis is killed and restarted empty
// (on the cluster: the master that owns the room's slot, which rejoins under its identity).
// Clients reconnect to any live node and resend what was not acked, with the same cid and
// text. At the end every acked message is in the room's history exactly once, under the seq
// its ack named, and no seq names two messages.
#include "net/redis/room_log.hpp"
#include "net/redis/slot_map.hpp"
#include "support/eventually.hpp"
#include "support/multinode.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace chat::test;

namespace {

constexpr size_t node_count = 3, clients = 3;
constexpr int max_per_client = 5000, window = 10;
// Each client keeps sending new messages while the chaos runs (about 1,000/s at most).
std::atomic<bool> chaos_running{true};

// Ports of the nodes that run now (a restarted node listens on a new port).
class live_ports {
public:
  void set(size_t i, uint16_t port) {
    std::lock_guard<std::mutex> g(mu_);
    ports_[i] = port;
  }
  uint16_t pick(size_t hint) {
    std::lock_guard<std::mutex> g(mu_);
    for (size_t k = 0; k < node_count; ++k)
      if (auto p = ports_[(hint + k) % node_count])
        return p;
    return 0;
  }

private:
  std::mutex mu_;
  uint16_t ports_[node_count] = {};
};

struct sender_result {
  std::map<std::string, uint64_t> acked; // cid -> seq
  std::string problem;
};

// Sends messages while the chaos runs, at most `window` unacked, resending unacked ones
// after every reconnect; returns when the chaos is over and all are acked, or at `deadline`.
void run_sender(size_t me, live_ports& ports, std::chrono::steady_clock::time_point deadline,
                sender_result& out) {
  std::set<int> unacked;
  int next_k = 0;
  auto more = [&] {
    while (chaos_running && next_k < max_per_client && unacked.size() < size_t(window))
      unacked.insert(next_k++);
  };
  more();
  size_t attempt = me;
  auto text = [&](int k) { return "c" + std::to_string(me) + "-m" + std::to_string(k); };
  while ((!unacked.empty() || chaos_running) && std::chrono::steady_clock::now() < deadline) {
    try {
      auto port = ports.pick(attempt++);
      if (port == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      ws_client c(port, "user=sender" + std::to_string(me));
      c.join("chaos", std::chrono::milliseconds(3000));
      std::set<int> sent;
      auto fill = [&] {
        for (int k : unacked) {
          if (sent.size() >= size_t(window))
            break;
          if (sent.insert(k).second)
            c.send(send_frame("chaos", text(k), "k" + std::to_string(k), "persisted"));
        }
      };
      fill();
      while ((!unacked.empty() || chaos_running)
             && std::chrono::steady_clock::now() < deadline) {
        more();
        fill();
        auto f = c.next(std::chrono::milliseconds(3000));
        if (f.op() == "ack") {
          int k = std::stoi(f.str("cid").substr(1));
          auto seq = f.u64("seq");
          auto [at, fresh] = out.acked.emplace(f.str("cid"), seq);
          if (!fresh && at->second != seq) {
            out.problem = "cid " + f.str("cid") + " acked with seq " + std::to_string(at->second)
                          + " and " + std::to_string(seq);
            return;
          }
          unacked.erase(k);
          sent.erase(k);
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } else if (f.op() == "error") {
          break; // unavailable (Redis or the store restarting): reconnect and resend
        }
      }
    } catch (const std::exception&) {
      // The node died or stalled: another node, same cids.
    }
  }
  if (!unacked.empty())
    out.problem = std::to_string(unacked.size()) + " messages never acked";
}

// The chaos against nodes sharing the Redis at `redis_uri`; `kill_redis` and
// `restart_redis` take down and bring back (empty) the server that holds the room.
void chaos(const std::string& redis_uri, const std::function<void()>& kill_redis,
           const std::function<void()>& restart_redis) {
  chaos_running = true;
  node_group g(redis_uri, node_count, {"--redis.unavailable-timeout=500ms"});
  live_ports ports;
  for (size_t i = 0; i < node_count; ++i)
    ports.set(i, g.port(i));

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  std::vector<sender_result> results(clients);
  std::vector<std::thread> senders;
  for (size_t i = 0; i < clients; ++i)
    senders.emplace_back([&, i] { run_sender(i, ports, deadline, results[i]); });

  std::mt19937 rng(12345);
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    if (round == 2) {
      kill_redis();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      restart_redis();
      continue;
    }
    size_t victim = rng() % node_count;
    ports.set(victim, 0);
    g.nodes[victim]->kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    g.nodes[victim] = g.start(victim);
    ports.set(victim, g.port(victim));
  }
  chaos_running = false;
  for (auto& t : senders)
    t.join();
  for (auto& r : results)
    CHECK(r.problem.empty());
  for (auto& r : results)
    if (!r.problem.empty())
      FAIL(r.problem);

  // Every acked message once, under its acked seq; no seq twice.
  ws_client reader(g.port(0), "user=reader");
  reader.join("chaos");
  std::vector<std::pair<uint64_t, std::string>> h;
  CHECK(eventually([&] {
    h = history_of(reader, "chaos");
    size_t acked = 0;
    for (auto& r : results)
      acked += r.acked.size();
    return h.size() >= acked;
  }));
  INFO("history holds " << h.size() << " messages");
  std::map<std::string, uint64_t> seq_of_text;
  for (size_t k = 0; k < h.size(); ++k) {
    if (k > 0)
      REQUIRE(h[k].first > h[k - 1].first);
    CHECK(seq_of_text.emplace(h[k].second, h[k].first).second);
  }
  for (size_t i = 0; i < clients; ++i)
    for (auto& [cid, seq] : results[i].acked) {
      auto text = "c" + std::to_string(i) + "-m" + cid.substr(1);
      auto at = seq_of_text.find(text);
      CHECK(at != seq_of_text.end());
      if (at == seq_of_text.end())
        FAIL_CHECK("acked, not in history: " << text << " seq " << seq);
      else
        CHECK(at->second == seq);
    }
}

} // namespace

TEST_CASE("kill -9 and restart nodes and Redis under traffic: acked = stored exactly once") {
  redis_server redis;
  chaos(redis.uri(), [&] { redis.kill9(); }, [&] { redis.restart(); });
}

TEST_CASE("the same on a 3-master Redis Cluster, restarting the room's master") {
  redis_cluster cluster;
  // The room's master: a random one would miss the room two times in three.
  size_t master = cluster.owner_of(chat::redis::key_slot(chat::redis::keys_for("chaos").seq));
  chaos(cluster.uri(), [&] { cluster.node(master).kill9(); }, [&] { cluster.restart(master); });
}
