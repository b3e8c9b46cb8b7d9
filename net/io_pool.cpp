// Network threads and coalesced write scheduling.
#include "net/io_pool.hpp"

#include "actors/lane_scheduler.hpp"
#include "net/ws_session.hpp"

#include <boost/asio/post.hpp>

#include <future>

#include <pthread.h>

namespace chat::net {

io_worker::io_worker(std::chrono::milliseconds tick_interval,
                     std::shared_ptr<asio::io_context> loop)
  : ioc_(loop ? loop : std::make_shared<asio::io_context>()), pinned_(loop != nullptr),
    work_(asio::make_work_guard(*ioc_)), tick_(*ioc_), tick_interval_(tick_interval) {
}

namespace {
thread_local io_worker* this_thread_worker = nullptr;
}

void io_worker::schedule_flush(std::shared_ptr<ws_session> s) {
  if (this_thread_worker == this) {
    local_.push_back(std::move(s));
    // In a batch or drain of this thread's lane, flush_local runs at its end.
    if (!local_posted_ && !lane_scheduler::batching()) {
      local_posted_ = true;
      asio::post(*ioc_, [this] { run_flushes(); });
    }
    return;
  }
  bool post = false;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    pending_.push_back(std::move(s));
    if (!posted_)
      post = posted_ = true;
  }
  if (post)
    asio::post(*ioc_, [this] { run_flushes(); });
}

void io_worker::run_flushes() {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    running_.swap(pending_);
    posted_ = false;
  }
  running_.insert(running_.end(), std::make_move_iterator(local_.begin()),
                  std::make_move_iterator(local_.end()));
  local_.clear();
  local_posted_ = false;
  for (auto& s : running_)
    s->flush();
  running_.clear();
}

void io_worker::flush_local() {
  if (flushing_local_)
    return; // the outer call's loop takes what was scheduled meanwhile
  flushing_local_ = true;
  while (!local_.empty()) {
    local_running_.swap(local_);
    for (auto& s : local_running_)
      s->flush();
    local_running_.clear();
  }
  flushing_local_ = false;
}

void io_worker::arm_tick() {
  tick_.expires_after(tick_interval_);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec)
      return;
    auto now = std::chrono::steady_clock::now();
    std::vector<ws_session*> all(sessions_.begin(), sessions_.end());
    for (auto* s : all)
      if (sessions_.count(s))
        s->tick(now);
    arm_tick();
  });
}

void io_worker::host_actors(lane_scheduler& lanes, size_t lane) {
  lanes_ = &lanes;
  lane_ = lane;
}

void io_worker::start() {
  arm_tick();
  if (lanes_)
    lanes_->attach(lane_, *ioc_, [this] { flush_local(); });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "chat.io"); // per-thread CPU in top, perf, benchmarks
    this_thread_worker = this;
    if (lanes_)
      lanes_->enter(lane_);
    run_loop();
  });
}

// With a batch delay, a thread woken by an event runs everything ready, then sleeps out the
// rest of the delay before it polls again: what arrives meanwhile (client frames, posted
// work) shares one wake-up of this thread, and the writes it causes go out back to back.
// After a quiet spell the first event runs at once (run_one waits in epoll_wait), and the
// round is counted from its end; after a round longer than the delay the thread does not
// sleep, so a saturated thread (whose polls always find work) never does.
void io_worker::run_loop() {
  if (batch_delay_.count() <= 0) {
    ioc_->run();
    return;
  }
  using clock = std::chrono::steady_clock;
  for (;;) {
    auto woke = clock::now();
    if (ioc_->poll() == 0) {
      if (ioc_->stopped() || ioc_->run_one() == 0)
        break;
      woke = clock::now();
      ioc_->poll();
    }
    if (ioc_->stopped())
      break;
    std::this_thread::sleep_until(woke + batch_delay_);
  }
}

void io_worker::stop() {
  asio::post(*ioc_, [this] { tick_.cancel(); });
  work_.reset();
  ioc_->stop();
}

void io_worker::run_here(const std::function<void()>& fn) {
  std::promise<void> done;
  asio::post(*ioc_, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

void io_worker::join() {
  if (!thread_.joinable())
    return;
  thread_.join();
  if (lanes_)
    lanes_->detach(lane_);
}

io_pool::io_pool(size_t threads, std::chrono::milliseconds tick_interval,
                 std::shared_ptr<asio::io_context> first_loop) {
  for (size_t i = 0; i < threads; ++i)
    workers_.push_back(std::make_unique<io_worker>(tick_interval, i == 0 ? first_loop : nullptr));
}

void io_pool::set_batch_delay(std::chrono::microseconds d) {
  for (auto& w : workers_)
    w->set_batch_delay(d);
}

void io_pool::host_actors(lane_scheduler& lanes) {
  for (size_t i = 0; i < workers_.size() && i < lanes.lanes(); ++i)
    workers_[i]->host_actors(lanes, i);
}

io_worker& io_pool::next() {
  auto& w = *workers_[next_];
  next_ = (next_ + 1) % workers_.size();
  return w;
}

void io_pool::start() {
  for (auto& w : workers_)
    w->start();
}

void io_pool::stop(bool pinned_too) {
  for (auto& w : workers_)
    if (pinned_too || !w->pinned())
      w->stop();
  for (auto& w : workers_)
    if (pinned_too || !w->pinned())
      w->join();
}

} // namespace chat::net
