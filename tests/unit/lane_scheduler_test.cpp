// Unit: the lane scheduler (scheduler policy 'network') — actors run on the thread that
// hosts their lane, an actor readied by a lane's actor stays on that lane, the fallback
// thread runs them while no host does, a batch on a host thread runs the chain of actors
// it readied before it closes, and no message is lost or reordered when a host stops under
// load. Real actor systems, real io_context threads.
#include "actors/lane_scheduler.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace chat;
namespace asio = boost::asio;

namespace {

// What an actor saw: each message's number and the thread that handled it.
struct seen {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<int> numbers;
  std::vector<std::thread::id> threads;

  void add(int n) {
    std::lock_guard<std::mutex> guard(mtx);
    numbers.push_back(n);
    threads.push_back(std::this_thread::get_id());
    cv.notify_all();
  }
  bool wait_for(size_t count, std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> guard(mtx);
    return cv.wait_for(guard, limit, [&] { return numbers.size() >= count; });
  }
  std::set<std::thread::id> thread_set() {
    std::lock_guard<std::mutex> guard(mtx);
    return {threads.begin(), threads.end()};
  }
};

caf::behavior recorder(caf::event_based_actor*, std::shared_ptr<seen> log) {
  return {[log](int n) { log->add(n); }};
}

caf::behavior forwarder(caf::event_based_actor*, caf::actor to, std::shared_ptr<seen> log) {
  return {[to, log](int n) {
    log->add(n);
    caf::anon_send(to, n);
  }};
}

// A network thread stand-in: an io_context run by a thread that hosts one lane.
struct host {
  host(lane_scheduler& s, size_t lane, std::function<void()> settled = {})
    : sched(s), index(lane), work(asio::make_work_guard(ioc)) {
    sched.attach(index, ioc, std::move(settled));
    thread = std::thread([this] {
      sched.enter(index);
      ioc.run();
    });
    id = thread.get_id();
  }
  ~host() { stop(); }
  void stop() {
    if (!thread.joinable())
      return;
    work.reset();
    ioc.stop();
    thread.join();
    sched.detach(index);
  }

  lane_scheduler& sched;
  size_t index;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  std::thread::id id;
};

// Waits until `a` has an empty, blocked mailbox: the next message schedules it afresh
// (until then it keeps running on the thread it runs on).
bool wait_idle(const caf::actor& a) {
  auto* self = dynamic_cast<caf::scheduled_actor*>(caf::actor_cast<caf::abstract_actor*>(a));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!self->mailbox().blocked()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::yield();
  }
  return true;
}

void forget(seen& log) {
  std::lock_guard<std::mutex> guard(log.mtx);
  log.numbers.clear();
  log.threads.clear();
}

caf::actor_system_config lane_config(size_t lanes) {
  caf::actor_system_config cfg;
  lane_scheduler::install(cfg, lanes);
  return cfg;
}

} // namespace

TEST_CASE("actors run on the thread that hosts their lane") {
  auto cfg = lane_config(1);
  caf::actor_system sys{cfg};
  auto* sched = lane_scheduler::of(sys);
  REQUIRE(sched != nullptr);
  REQUIRE(sched->lanes() == 1);
  auto log = std::make_shared<seen>();
  auto a = sys.spawn(recorder, log);
  // Until it is idle the actor keeps running where it started (the fallback thread).
  caf::anon_send(a, -1);
  REQUIRE(log->wait_for(1));
  REQUIRE(wait_idle(a));
  forget(*log);
  {
    host h(*sched, 0);
    // Readied from the host thread itself and from another thread alike.
    asio::post(h.ioc, [a] {
      for (int i = 0; i < 500; ++i)
        caf::anon_send(a, i);
    });
    REQUIRE(log->wait_for(500));
    for (int i = 500; i < 1000; ++i)
      caf::anon_send(a, i);
    REQUIRE(log->wait_for(1000));
    CHECK(log->thread_set() == std::set<std::thread::id>{h.id});
  }
  for (int i = 0; i < 1000; ++i)
    CHECK(log->numbers[size_t(i)] == i);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("an actor readied by a lane's actor runs on that lane") {
  auto cfg = lane_config(2);
  caf::actor_system sys{cfg};
  auto* sched = lane_scheduler::of(sys);
  REQUIRE(sched->lanes() == 2);
  auto first = std::make_shared<seen>();
  auto second = std::make_shared<seen>();
  auto b = sys.spawn(recorder, second);
  auto a = sys.spawn(forwarder, b, first);
  caf::anon_send(a, -1); // both idle before the hosts come
  REQUIRE(second->wait_for(1));
  REQUIRE(wait_idle(a));
  REQUIRE(wait_idle(b));
  forget(*first);
  forget(*second);
  host h0(*sched, 0);
  host h1(*sched, 1);
  for (int i = 0; i < 200; ++i) {
    asio::post(h1.ioc, [a, i] { caf::anon_send(a, i); });
    REQUIRE(second->wait_for(size_t(i) + 1));
  }
  // One message at a time: each went from host 1's thread to a, then to b, on that thread.
  CHECK(first->thread_set() == std::set<std::thread::id>{h1.id});
  CHECK(second->thread_set() == std::set<std::thread::id>{h1.id});
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
}

TEST_CASE("a batch on a host thread runs what it readied before it closes") {
  auto cfg = lane_config(1);
  caf::actor_system sys{cfg};
  auto* sched = lane_scheduler::of(sys);
  auto first = std::make_shared<seen>();
  auto second = std::make_shared<seen>();
  auto b = sys.spawn(recorder, second);
  auto a = sys.spawn(forwarder, b, first);
  caf::anon_send(a, -1);
  REQUIRE(second->wait_for(1));
  REQUIRE(wait_idle(a));
  REQUIRE(wait_idle(b));
  forget(*first);
  forget(*second);
  { // A thread that hosts no lane has no batch: what it readies is posted as ever.
    lane_scheduler::batch batch;
    CHECK_FALSE(lane_scheduler::batching());
  }
  std::atomic<int> settled{0};
  host h(*sched, 0, [&settled] { ++settled; });
  struct observed {
    bool batching_inside = false;
    size_t seen_at_close = 0;
    int settled_at_close = 0;
  };
  auto count = [](seen& log) {
    std::lock_guard<std::mutex> guard(log.mtx);
    return log.numbers.size();
  };
  std::promise<observed> batched;
  asio::post(h.ioc, [&] {
    observed o;
    {
      lane_scheduler::batch batch;
      o.batching_inside = lane_scheduler::batching();
      caf::anon_send(a, 1);
    }
    // Both actors of the chain ran in rounds of one drain, then the host's callback.
    o.seen_at_close = count(*second);
    o.settled_at_close = settled.load();
    batched.set_value(o);
  });
  auto o = batched.get_future().get();
  CHECK(o.batching_inside);
  CHECK(o.seen_at_close == 1);
  CHECK(o.settled_at_close == 1);
  REQUIRE(wait_idle(a));
  REQUIRE(wait_idle(b));
  std::promise<size_t> unbatched;
  asio::post(h.ioc, [&] {
    caf::anon_send(a, 2); // no batch: the drain is posted behind this handler
    unbatched.set_value(count(*second));
  });
  CHECK(unbatched.get_future().get() == 1);
  REQUIRE(second->wait_for(2));
  CHECK(second->numbers == std::vector<int>{1, 2});
  CHECK(second->thread_set() == std::set<std::thread::id>{h.id});
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
}

TEST_CASE("without a host the fallback thread runs the actors") {
  auto cfg = lane_config(1);
  caf::actor_system sys{cfg};
  auto log = std::make_shared<seen>();
  auto a = sys.spawn(recorder, log);
  for (int i = 0; i < 100; ++i)
    caf::anon_send(a, i);
  REQUIRE(log->wait_for(100));
  auto threads = log->thread_set();
  CHECK(threads.size() == 1);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
  // Timers (the scheduler's clock) reach them too.
  caf::delayed_anon_send(a, std::chrono::milliseconds(20), 100);
  REQUIRE(log->wait_for(101));
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("a host stopping under load loses and reorders nothing") {
  auto cfg = lane_config(1);
  caf::actor_system sys{cfg};
  auto* sched = lane_scheduler::of(sys);
  constexpr int total = 200000;
  for (int round = 0; round < 3; ++round) {
    auto log = std::make_shared<seen>();
    auto a = sys.spawn(recorder, log);
    host h(*sched, 0);
    std::thread sender([a] {
      for (int i = 0; i < total; ++i)
        caf::anon_send(a, i);
    });
    // Stop the host while messages are still arriving and queued on its io_context.
    while (true) {
      {
        std::lock_guard<std::mutex> guard(log->mtx);
        if (log->numbers.size() > size_t(1000 + round * 20000))
          break;
      }
      std::this_thread::yield();
    }
    h.stop();
    sender.join();
    REQUIRE(log->wait_for(total, std::chrono::seconds(30)));
    std::lock_guard<std::mutex> guard(log->mtx);
    REQUIRE(log->numbers.size() == size_t(total));
    for (int i = 0; i < total; ++i)
      REQUIRE(log->numbers[size_t(i)] == i);
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
}
