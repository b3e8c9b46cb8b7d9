// Unit (against a real redis-server started on a free port): the command side of the
// Redis client — pipelining from many threads in few writes, the queue bound, clean
// failures while Redis is down (unsent: unavailable; in flight: lost), recovery after a
// restart, command and connect timeouts, a reply over the byte bound, EVALSHA's EVAL
// fallback, batched commands sharing a write, callbacks on the io thread (its own, or a
// host's).
#include "net/redis/client.hpp"
#include "net/redis/script.hpp"
#include "support/mailbox.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace chat;
using namespace chat::redis;
using namespace std::chrono_literals;
using test::mailbox;

namespace {

struct outcome {
  failure fail;
  reply value;
  std::chrono::steady_clock::time_point at;
};

callback into(mailbox<outcome>& box) {
  return [&box](response&& r) {
    box.push(outcome{r.fail, std::move(r.value), std::chrono::steady_clock::now()});
  };
}

} // namespace

TEST_CASE("commands from many threads are pipelined: few writes, each thread's order kept") {
  test::redis_server server;
  constexpr int threads = 4, per_thread = 5000;
  std::mutex mu;
  std::map<int, std::vector<int64_t>> seen; // thread -> INCR results in callback order
  std::atomic<int> answered{0};
  client rc(test::test_settings(server));
  rc.start();
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        bool ok = rc.command("counter", {"INCR", "counter"}, [&, t](response&& r) {
          std::lock_guard<std::mutex> guard(mu);
          seen[t].push_back(r.ok() ? r.value.integer : -1);
          ++answered;
        });
        REQUIRE(ok);
      }
    });
  }
  for (auto& s : senders)
    s.join();
  REQUIRE(test::eventually([&] { return answered == threads * per_thread; }));
  std::set<int64_t> all;
  for (auto& [t, values] : seen) {
    REQUIRE(values.size() == size_t(per_thread));
    for (size_t i = 1; i < values.size(); ++i)
      CHECK(values[i] > values[i - 1]); // a thread's commands run in its order
    all.insert(values.begin(), values.end());
  }
  CHECK(all.size() == size_t(threads * per_thread));
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == threads * per_thread);
  auto writes = rc.counters().batches.load();
  INFO("writes: " << writes);
  CHECK(writes * 4 < uint64_t(threads * per_thread)); // many commands per write
}

TEST_CASE("the queue bound refuses at once and loses nothing it accepted") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.queue_commands = 100;
  s.queue_bytes = 64 * 1024;
  mailbox<outcome> replies;
  client rc(s);
  rc.start();
  REQUIRE(test::eventually([&] { return rc.up(); }));
  // A blocking pop holds the connection: what follows waits behind it.
  REQUIRE(rc.command("list", {"BLPOP", "list", "0.5"}, into(replies)));
  int accepted = 1, refused = 0; // BLPOP is the first
  for (int i = 0; i < 300; ++i)
    (rc.command("k", {"INCR", "k"}, into(replies)) ? accepted : refused)++;
  CHECK(accepted == 100);
  CHECK(refused == 201);
  CHECK(rc.counters().rejected == 201);
  REQUIRE(replies.wait_count(size_t(accepted)));
  for (auto& o : replies.items())
    CHECK(o.fail == failure::none);
  CHECK(test::redis_command(server.port(), {"GET", "k"}).str == "99");
  // Bytes too: one command larger than the whole bound.
  CHECK_FALSE(rc.command("big", {"SET", "big", std::string(70 * 1024, 'x')}, into(replies)));
}

TEST_CASE("while Redis is down commands fail cleanly; after a restart they succeed") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.unavailable_timeout = 1500ms;
  mailbox<bool> states;
  mailbox<outcome> replies;
  client rc(s);
  rc.on_state([&](bool up) { states.push(up); });
  rc.start();
  REQUIRE(states.wait([](auto& v) { return !v.empty() && v.back(); }));

  REQUIRE(rc.command("k", {"SET", "k", "v"}, into(replies)));
  REQUIRE(replies.wait_count(1));
  CHECK(replies.items()[0].fail == failure::none);

  // In flight when the server dies: lost (it may have run).
  REQUIRE(rc.command("list", {"BLPOP", "list", "5"}, into(replies)));
  REQUIRE(test::eventually([&] {
    auto info = test::redis_command(server.port(), {"CLIENT", "LIST"});
    return info.str.find("cmd=blpop") != std::string::npos;
  }));
  server.kill9();
  REQUIRE(replies.wait_count(2));
  CHECK(replies.items()[1].fail == failure::lost);
  REQUIRE(states.wait([](auto& v) { return !v.back(); }));
  CHECK_FALSE(rc.up());

  // Unsent while down: waits redis.unavailable-timeout, then unavailable.
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(rc.command("k", {"GET", "k"}, into(replies)));
  REQUIRE(replies.wait_count(3));
  auto third = replies.items()[2];
  CHECK(third.fail == failure::unavailable);
  CHECK(third.at - t0 >= 1400ms);

  // Sent while down, the server back within the timeout: it succeeds.
  REQUIRE(rc.command("k", {"SET", "k", "again"}, into(replies)));
  server.restart();
  REQUIRE(replies.wait_count(4));
  CHECK(replies.items()[3].fail == failure::none);
  REQUIRE(states.wait([](auto& v) { return v.back(); }));
  CHECK(test::redis_command(server.port(), {"GET", "k"}).str == "again");
  CHECK(rc.counters().lost >= 1);
  CHECK(rc.counters().unavailable >= 1);
  CHECK(rc.counters().disconnects >= 1);
}

TEST_CASE("a reply later than command-timeout fails the command and the link recovers") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.command_timeout = 300ms;
  mailbox<outcome> replies;
  client rc(s);
  rc.start();
  REQUIRE(rc.command("list", {"BLPOP", "list", "2"}, into(replies)));
  REQUIRE(rc.command("k", {"INCR", "k"}, into(replies))); // behind it on the same connection
  REQUIRE(replies.wait_count(2));
  CHECK(replies.items()[0].fail == failure::timeout);
  CHECK(replies.items()[1].fail == failure::lost);
  CHECK(rc.counters().timeouts >= 1);
  REQUIRE(rc.command("", {"PING"}, into(replies)));
  REQUIRE(replies.wait_count(3));
  CHECK(replies.items()[2].fail == failure::none);
  CHECK(replies.items()[2].value.str == "PONG");
}

TEST_CASE("a reply over max_reply_bytes resets the link; smaller replies go on") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.max_reply_bytes = 4096;
  mailbox<outcome> replies;
  client rc(s);
  rc.start();
  std::string big(10000, 'b');
  REQUIRE(rc.command("big", {"SET", "big", big}, into(replies))); // a command may be large
  REQUIRE(replies.wait_count(1));
  REQUIRE(replies.items()[0].fail == failure::none);
  REQUIRE(rc.command("big", {"GET", "big"}, into(replies)));
  REQUIRE(replies.wait_count(2));
  CHECK(replies.items()[1].fail == failure::lost);
  CHECK(rc.counters().disconnects >= 1);
  REQUIRE(rc.command("big", {"STRLEN", "big"}, into(replies)));
  REQUIRE(replies.wait_count(3));
  CHECK(replies.items()[2].fail == failure::none);
  CHECK(replies.items()[2].value.integer == 10000);
}

TEST_CASE("connecting times out on a server that accepts but never answers") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(
    io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  settings s;
  s.seeds = {{"127.0.0.1", silent.local_endpoint().port()}};
  s.password = "secret"; // AUTH is written and never answered
  s.connect_timeout = 200ms;
  s.unavailable_timeout = 600ms;
  s.reconnect_min = 10ms;
  s.reconnect_max = 50ms;
  mailbox<outcome> replies;
  client rc(s);
  rc.start();
  REQUIRE(rc.command("", {"PING"}, into(replies)));
  REQUIRE(replies.wait_count(1));
  CHECK(replies.items()[0].fail == failure::unavailable);
  CHECK(rc.counters().connect_failures >= 2);
  CHECK(rc.counters().connects == 0);
  CHECK_FALSE(rc.up());
}

TEST_CASE("scripts run by EVALSHA, and by EVAL when the server forgot them") {
  test::redis_server server;
  script echo("return ARGV[1] .. KEYS[1]");
  mailbox<outcome> replies;
  client rc(test::test_settings(server));
  rc.add_script(echo);
  rc.start();
  REQUIRE(rc.eval(echo, {"k"}, {"v"}, into(replies)));
  REQUIRE(replies.wait_count(1));
  CHECK(replies.items()[0].value.str == "vk");
  CHECK(rc.counters().noscript == 0); // loaded when the connection came up
  REQUIRE(test::redis_command(server.port(), {"SCRIPT", "FLUSH"}).str == "OK");
  REQUIRE(rc.eval(echo, {"k"}, {"w"}, into(replies)));
  REQUIRE(replies.wait_count(2));
  CHECK(replies.items()[1].value.str == "wk");
  CHECK(rc.counters().noscript == 1);
}

TEST_CASE("callbacks run on the client's io thread; stop() fails what is queued") {
  test::redis_server server;
  auto s = test::test_settings(server);
  s.unavailable_timeout = 30000ms;
  mailbox<std::thread::id> threads;
  mailbox<outcome> replies;
  auto rc = std::make_unique<client>(s);
  rc->start();
  for (int i = 0; i < 10; ++i)
    REQUIRE(rc->command("", {"PING"}, [&](response&&) { threads.push(std::this_thread::get_id()); }));
  REQUIRE(threads.wait_count(10));
  auto ids = threads.items();
  CHECK(std::set<std::thread::id>(ids.begin(), ids.end()).size() == 1);
  CHECK(ids[0] != std::this_thread::get_id());

  server.kill9();
  REQUIRE(test::eventually([&] { return !rc->up(); }));
  REQUIRE(rc->command("", {"PING"}, into(replies)));
  rc->stop();
  REQUIRE(replies.wait_count(1));
  CHECK(replies.items()[0].fail == failure::stopped);
  CHECK_FALSE(rc->command("", {"PING"}, into(replies))); // refused after stop
}

TEST_CASE("batched commands share a write per batch-delay; other commands go at once") {
  test::redis_server server;
  auto s = test::test_settings(server);
  // Long enough that a stalled test thread (a loaded CI machine) still acts within it,
  // short of the keepalive PING an idle connection gets after 1 s.
  s.batch_delay = 600ms;
  s.command_timeout = 10000ms; // no keepalive PING among the counted writes
  script incr("return redis.call('INCR', KEYS[1])");
  mailbox<outcome> replies;
  client rc(s);
  rc.add_script(incr);
  rc.start();
  REQUIRE(test::eventually([&] { return rc.up(); }));
  auto since = [&](size_t i, std::chrono::steady_clock::time_point t) {
    return replies.items()[i].at - t;
  };

  // After a quiet spell a batched command is written at once.
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(rc.eval(incr, {"n"}, {}, into(replies), dispatch::batched));
  REQUIRE(replies.wait_count(1));
  CHECK(since(0, t0) < 200ms);

  // Those that follow within the delay wait out the rest of it, and share one write.
  auto writes = rc.counters().batches.load();
  for (int i = 0; i < 5; ++i) {
    REQUIRE(rc.eval(incr, {"n"}, {}, into(replies), dispatch::batched));
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(replies.wait_count(6));
  CHECK(rc.counters().batches.load() == writes + 1);
  for (size_t i = 1; i < 6; ++i) {
    CHECK(replies.items()[i].value.integer == int64_t(i + 1)); // in the order sent
    CHECK(since(i, t0) >= 600ms);
  }

  // A command that is not batched is written at once, with the batched ones waiting.
  auto t1 = std::chrono::steady_clock::now();
  writes = rc.counters().batches.load();
  REQUIRE(rc.eval(incr, {"n"}, {}, into(replies), dispatch::batched));
  REQUIRE(rc.eval(incr, {"n"}, {}, into(replies), dispatch::batched));
  REQUIRE(rc.command("n", {"GET", "n"}, into(replies)));
  REQUIRE(replies.wait_count(9));
  CHECK(rc.counters().batches.load() == writes + 1);
  CHECK(replies.items()[8].value.str == "8");
  for (size_t i = 6; i < 9; ++i)
    CHECK(since(i, t1) < 200ms);
}

TEST_CASE("a hosted client runs on its host's thread and leaves the host running at stop()") {
  test::redis_server server;
  auto host = std::make_shared<boost::asio::io_context>();
  auto guard = boost::asio::make_work_guard(*host);
  std::thread host_thread([&] { host->run(); });
  mailbox<std::thread::id> threads;
  mailbox<outcome> replies;
  {
    client rc(test::test_settings(server), host);
    rc.start();
    for (int i = 0; i < 100; ++i)
      REQUIRE(rc.command("n", {"INCR", "n"}, [&](response&& r) {
        CHECK(r.ok());
        threads.push(std::this_thread::get_id());
      }));
    REQUIRE(threads.wait_count(100));
    auto ids = threads.items();
    CHECK(std::set<std::thread::id>(ids.begin(), ids.end())
          == std::set<std::thread::id>{host_thread.get_id()});

    // A command sent from the host thread itself is answered there too.
    boost::asio::post(*host, [&] { rc.command("n", {"GET", "n"}, into(replies)); });
    REQUIRE(replies.wait_count(1));
    CHECK(replies.items()[0].value.str == "100");

    server.kill9();
    REQUIRE(test::eventually([&] { return !rc.up(); }));
    REQUIRE(rc.command("", {"PING"}, into(replies)));
    rc.stop();
    REQUIRE(replies.wait_count(2));
    CHECK(replies.items()[1].fail == failure::stopped);
  }
  // The host still runs what is posted to it after the client is gone.
  std::promise<void> ran;
  boost::asio::post(*host, [&] { ran.set_value(); });
  CHECK(ran.get_future().wait_for(5s) == std::future_status::ready);
  guard.reset();
  host->stop();
  host_thread.join();
}
