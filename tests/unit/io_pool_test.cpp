// Unit: a network thread's batch delay (net.batch-delay). A thread woken by work runs what
// is ready, then looks again only when the delay has passed since it woke, so work that
// comes meanwhile shares one wake-up; after a quiet spell work runs at once, a thread busy
// for longer than the delay does not sleep, and stop() ends a sleeping thread. Real threads,
// real io_context.
#include "net/io_pool.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

using namespace chat::net;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// The worker's session tick would be one more wake-up of the thread: far off.
constexpr std::chrono::milliseconds no_tick = std::chrono::hours(1);

// Posts a handler to the worker's thread and returns a future of when it ran.
std::future<clock_type::time_point> post_timed(io_worker& w) {
  auto done = std::make_shared<std::promise<clock_type::time_point>>();
  auto when = done->get_future();
  boost::asio::post(w.context(), [done] { done->set_value(clock_type::now()); });
  return when;
}

clock_type::time_point get(std::future<clock_type::time_point>& f) {
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  return f.get();
}

// A worker with the given batch delay, started, stopped and joined at the end.
struct running_worker {
  io_worker w;
  explicit running_worker(std::chrono::microseconds delay) : w(no_tick) {
    w.set_batch_delay(delay);
    w.start();
  }
  ~running_worker() {
    w.stop();
    w.join();
  }
};

} // namespace

TEST_CASE("work that comes soon after a wake-up waits for the batch delay, together") {
  // 600 ms: long enough that a stalled test thread still acts within it.
  running_worker rw(600ms);
  auto warm = post_timed(rw.w);
  get(warm);
  std::this_thread::sleep_for(800ms); // past the delay: the thread waits for work
  auto first = post_timed(rw.w);
  auto t_first = get(first);

  std::this_thread::sleep_for(20ms);
  auto second = post_timed(rw.w);
  auto third = post_timed(rw.w);
  auto t_second = get(second);
  auto t_third = get(third);
  CHECK(t_second - t_first >= 600ms);
  CHECK(t_third >= t_second);
  CHECK(t_third - t_second < 100ms); // one round
}

TEST_CASE("work after a quiet spell runs at once") {
  running_worker rw(300ms);
  auto first = post_timed(rw.w);
  get(first);
  std::this_thread::sleep_for(700ms); // the delay has passed: the thread waits for work
  auto posted = clock_type::now();
  auto second = post_timed(rw.w);
  CHECK(get(second) - posted < 200ms);
}

TEST_CASE("a thread busy for longer than the delay does not sleep after it") {
  running_worker rw(400ms);
  std::promise<clock_type::time_point> busy_end;
  // The first handler wakes the thread; the long one runs in the round that follows.
  boost::asio::post(rw.w.context(), [&] {
    boost::asio::post(rw.w.context(), [&] {
      std::this_thread::sleep_for(500ms); // a round of work longer than the delay
      busy_end.set_value(clock_type::now());
    });
  });
  auto end = busy_end.get_future().get();
  std::this_thread::sleep_until(end + 50ms);
  auto posted = clock_type::now();
  auto next = post_timed(rw.w);
  // Sleeping a whole delay after the round would hold it until end + 400ms.
  CHECK(get(next) - posted < 200ms);
}

TEST_CASE("without a batch delay, work runs at once") {
  running_worker rw(0us);
  auto first = post_timed(rw.w);
  get(first);
  std::vector<clock_type::duration> waits;
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(10ms);
    auto posted = clock_type::now();
    auto f = post_timed(rw.w);
    waits.push_back(get(f) - posted);
  }
  for (auto w : waits)
    CHECK(w < 100ms);
}

TEST_CASE("stop() ends a thread that sleeps out its delay") {
  auto w = std::make_unique<io_worker>(no_tick);
  w->set_batch_delay(100ms);
  w->start();
  auto first = post_timed(*w);
  get(first);
  auto t0 = clock_type::now();
  w->stop();
  w->join();
  CHECK(clock_type::now() - t0 < 1s);
}
