// End-to-end: what one user or one address may take — connections per user
// (chat.max-connections-per-user) and per address (net.max-connections-per-ip) refused
// with 429 and a reason; one message rate shared by all of a user's connections
// (chat.user-rate-limit) while another user's pings stay fast; failed logins throttled
// per username and per address (429 with Retry-After); a storm of 200 parallel logins at
// libsodium's INTERACTIVE cost leaves chat latency alone.
#include "support/auth_client.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <memory>
#include <thread>

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

// Frames of `op` that arrive before the connection has been quiet for `quiet`.
int count_until_quiet(ws_client& c, const std::string& op, std::chrono::milliseconds quiet,
                      bool* user_limited = nullptr) {
  int n = 0;
  for (;;) {
    try {
      auto f = c.next(quiet);
      n += f.op() == op;
      if (user_limited && f.op() == "error"
          && f.str("message").find("chat.user-rate-limit") != std::string::npos)
        *user_limited = true;
    } catch (const std::exception&) {
      return n;
    }
  }
}

} // namespace

TEST_CASE("connections per user and per address are capped with a clear 429") {
  token_key_file key;
  auto args = key.node_args();
  args.insert(args.end(), {"--chat.max-connections-per-user=3", "--net.max-connections-per-ip=5"});
  node_process node(args);
  auto port = node.port();
  auto alice = register_user(port, "alice", "alice's password");
  auto bob = register_user(port, "bob", "bob's password");

  std::vector<std::unique_ptr<ws_client>> open;
  for (int i = 0; i < 3; ++i)
    open.push_back(std::make_unique<ws_client>(port, "token=" + alice));
  auto fourth = upgrade_answer(port, "/ws?token=" + alice);
  CHECK(status_of(fourth) == 429);
  CHECK(error_of(fourth)
        == "too many connections for this user (chat.max-connections-per-user)");

  for (int i = 0; i < 2; ++i)
    open.push_back(std::make_unique<ws_client>(port, "token=" + bob));
  auto sixth = upgrade_answer(port, "/ws?token=" + bob);
  CHECK(status_of(sixth) == 429);
  CHECK(error_of(sixth) == "too many connections from this address (net.max-connections-per-ip)");

  // A closed connection gives its place back.
  open.front()->close();
  open.erase(open.begin());
  auto deadline = std::chrono::steady_clock::now() + 5s;
  int status = 0;
  while ((status = status_of(upgrade_answer(port, "/ws?token=" + alice))) != 101
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  CHECK(status == 101);
  CHECK(metric(node.admin_port(), "chat_admission_refused_total{reason=\"user_connections\"}")
        >= 1);
  CHECK(metric(node.admin_port(), "chat_admission_refused_total{reason=\"address_connections\"}")
        >= 1);
}

TEST_CASE("one rate for all of a user's connections: a flood over 20 is throttled, others are not") {
  token_key_file key;
  auto args = key.node_args();
  args.insert(args.end(), {"--chat.user-rate-limit=200", "--chat.user-rate-burst=200",
                           "--chat.rate-limit=100000", "--chat.rate-burst=100000"});
  node_process node(args);
  auto port = node.port();
  auto mallory = register_user(port, "mallory", "mallory's password");
  auto bob = register_user(port, "bob", "bob's password");
  std::vector<std::unique_ptr<ws_client>> flood;
  for (int i = 0; i < 20; ++i)
    flood.push_back(std::make_unique<ws_client>(port, "token=" + mallory));
  ws_client other(port, "token=" + bob);

  auto t0 = std::chrono::steady_clock::now();
  for (int round = 0; round < 100; ++round)
    for (auto& c : flood)
      c->send(R"({"op":"ping"})");
  // Bob's pings while Mallory's 2,000 frames are being refused.
  std::vector<std::chrono::microseconds> rtt;
  for (int i = 0; i < 100; ++i) {
    auto s = std::chrono::steady_clock::now();
    other.send(R"({"op":"ping","rid":)" + std::to_string(i) + "}");
    REQUIRE(other.next_op("pong").u64("rid") == uint64_t(i));
    rtt.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - s));
  }
  // Mallory's frames arrived by now; a second more covers the slowest of their handling.
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() + 1;
  int pongs = 0;
  bool told = false;
  for (auto& c : flood)
    pongs += count_until_quiet(*c, "pong", 150ms, &told);
  std::sort(rtt.begin(), rtt.end());
  auto p99 = rtt[98];
  WARN("mallory: " << pongs << " of 2000 pings answered (allowed window " << seconds
                   << " s); bob's ping p99 "
                   << p99.count() << " us");
  // The burst plus the rate over the time the flood lasted, never 20 connections' worth.
  CHECK(pongs >= 200);
  CHECK(pongs <= 200 + int(200 * seconds));
  CHECK(told);
  CHECK(p99 < 100ms);
  CHECK(metric(node.admin_port(), "chat_rate_limited_frames_total") >= 2000 - pongs);
}

TEST_CASE("failed logins are throttled per username and per address") {
  token_key_file key;
  auto args = key.node_args();
  args.insert(args.end(), {"--security.login-failures-per-user=3",
                           "--security.login-failures-per-ip=8",
                           "--security.login-failure-window=60s"});
  node_process node(args);
  auto port = node.port();
  // Registrations cost a hash: they count against the address (2 of 8).
  register_user(port, "carol", "carol's password");
  register_user(port, "dave", "dave's password");
  for (int i = 0; i < 3; ++i)
    CHECK(api_post(port, "login", credentials_body("carol", "guess " + std::to_string(i))).status
          == 401);
  // The username is throttled, the right password too, with a time to come back.
  auto throttled = api_post(port, "login", credentials_body("carol", "carol's password"));
  CHECK(throttled.status == 429);
  CHECK(!throttled.retry_after.empty());
  CHECK(std::stoi(throttled.retry_after) > 0);
  // Another name from the same address still works until the address's own limit (5 of 8
  // so far; successes do not count).
  CHECK(api_post(port, "login", credentials_body("dave", "dave's password")).status == 200);
  for (int i = 0; i < 3; ++i)
    CHECK(api_post(port, "login", credentials_body("dave", "nope " + std::to_string(i))).status
          == 401);
  auto by_address = api_post(port, "login", credentials_body("erin", "any password"));
  CHECK(by_address.status == 429);
  CHECK(metric(node.admin_port(), "chat_auth_events_total{event=\"throttled\"}") >= 2);
}

TEST_CASE("a storm of 200 parallel logins does not slow chat down") {
  token_key_file key;
  auto args = key.node_args();
  // libsodium's INTERACTIVE cost (64 MiB, 2 passes) on one niced thread; 16 may wait.
  args.insert(args.end(), {"--security.password-ops=2", "--security.password-mem=64MiB",
                           "--security.hash-queue=16"});
  node_process node(args);
  auto port = node.port();
  register_user(port, "stormy", "stormy's password");
  auto bob = register_user(port, "bob", "bob's password");
  ws_client chat(port, "token=" + bob);

  std::atomic<bool> storming{true};
  std::vector<std::chrono::microseconds> rtt;
  std::thread pinger([&] {
    for (uint64_t i = 0; storming || rtt.size() < 100; ++i) {
      auto s = std::chrono::steady_clock::now();
      chat.send(R"({"op":"ping","rid":)" + std::to_string(i) + "}");
      if (chat.next_op("pong").u64("rid") != i)
        return;
      rtt.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - s));
      std::this_thread::sleep_for(5ms);
    }
  });
  std::mutex mtx;
  std::map<int, int> statuses;
  std::vector<std::thread> storm;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i)
    storm.emplace_back([&] {
      auto a = api_post(port, "login", credentials_body("stormy", "stormy's password"));
      std::lock_guard<std::mutex> g(mtx);
      ++statuses[a.status];
      if (a.status == 503 && a.retry_after.empty())
        ++statuses[-1]; // a busy answer must say when to come back
    });
  for (auto& t : storm)
    t.join();
  auto storm_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  storming = false;
  pinger.join();
  REQUIRE(rtt.size() >= 100);
  std::sort(rtt.begin(), rtt.end());
  auto p99 = rtt[rtt.size() * 99 / 100];
  WARN("200 logins in " << storm_s << " s: " << statuses[200] << " ok, " << statuses[503]
                        << " busy; chat ping p99 " << p99.count() << " us over " << rtt.size()
                        << " pings");
  CHECK(statuses[200] >= 1);
  CHECK(statuses[200] + statuses[503] == 200); // nothing else: no errors, no timeouts
  CHECK(statuses[-1] == 0);
  CHECK(p99 < 50ms);
}
