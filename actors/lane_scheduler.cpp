// The lane scheduler (see the header). A lane is a queue of ready actors and a "drain"
// pending on at most one thread at a time: its host's io_context while a host is attached
// (posted there, or run inline when a batch closes), else the fallback thread. A drain
// runs what the lane holds in rounds: what was readied during a round runs in the next,
// so a message's chain of actors (connection, room) runs in one drain. It yields to the
// host's socket handlers when the lane is empty, after max_rounds, or after a round in
// which an actor used up its throughput (it goes to the back).
#include "actors/lane_scheduler.hpp"

#include "config/log.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>

#include <boost/asio/post.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chat {

struct lane_scheduler::impl {
  // host_batch: due at the end of the batch open on the host thread (no post).
  enum class drain_at { nowhere, host, host_batch, fallback };
  static constexpr size_t max_rounds = 8;

  struct lane final : caf::execution_unit {
    lane(caf::actor_system* sys, impl* owner_, size_t index_)
      : caf::execution_unit(sys), owner(owner_), index(index_) {
    }

    // An actor this lane's drain readies runs on this lane.
    void exec_later(caf::resumable* job) override {
      owner->push(*this, job);
    }

    impl* owner;
    size_t index;
    std::mutex mtx;
    std::deque<caf::resumable*> jobs;
    drain_at pending = drain_at::nowhere; // where the one drain of this lane is due
    boost::asio::io_context* host = nullptr;
    std::function<void()> settled; // set before the host thread starts; run there only
    std::vector<caf::resumable*> running; // the drain's batch (one drain at a time)
  };

  // The lane the current thread is draining or hosting; enqueues from it stay on it.
  static thread_local lane* current_lane;
  // The lane this thread hosts (set by enter), and how many batches are open on it.
  static thread_local lane* hosted_lane;
  static thread_local int open_batches;

  explicit impl(caf::actor_system& sys, size_t n) {
    for (size_t i = 0; i < std::max<size_t>(1, n); ++i)
      lanes.push_back(std::make_unique<lane>(&sys, this, i));
  }

  // Queues a ready job on `l`; schedules the lane's drain if none is due.
  void push(lane& l, caf::resumable* job) {
    drain_at where = drain_at::nowhere;
    boost::asio::io_context* host = nullptr;
    {
      std::lock_guard<std::mutex> guard(l.mtx);
      l.jobs.push_back(job);
      if (l.pending != drain_at::nowhere)
        return;
      if (open_batches > 0 && hosted_lane == &l && l.host) {
        l.pending = drain_at::host_batch; // the batch's end drains it
        return;
      }
      host = l.host;
      where = l.pending = host ? drain_at::host : drain_at::fallback;
    }
    schedule(l, where, host);
  }

  void schedule(lane& l, drain_at where, boost::asio::io_context* host) {
    if (where == drain_at::host) {
      boost::asio::post(*host, [this, &l] { drain(l, true); });
      return;
    }
    {
      std::lock_guard<std::mutex> guard(fallback_mtx);
      fallback_ready.push_back(&l);
    }
    fallback_cv.notify_one();
  }

  // `on_host`: runs on the thread hosting l (posted there, or at a batch's end).
  void drain(lane& l, bool on_host) {
    auto* outer = current_lane;
    current_lane = &l;
    if (on_host)
      ++open_batches;
    for (size_t round = 0; round < max_rounds; ++round) {
      {
        std::lock_guard<std::mutex> guard(l.mtx);
        if (l.jobs.empty())
          break;
        l.running.assign(l.jobs.begin(), l.jobs.end());
        l.jobs.clear();
      }
      bool busy = false;
      for (auto* job : l.running) {
        switch (job->resume(&l, max_throughput)) {
          case caf::resumable::resume_later:
            push_back_running(l, job);
            busy = true;
            break;
          case caf::resumable::done:
          case caf::resumable::awaiting_message:
            caf::intrusive_ptr_release(job);
            break;
          case caf::resumable::shutdown_execution_unit:
            // Only CAF's own worker shutdown returns this, and this scheduler never sends it.
            spdlog::error("lane scheduler: a job asked to stop lane {}; ignored", l.index);
            break;
        }
      }
      l.running.clear();
      if (busy)
        break;
    }
    if (on_host) {
      --open_batches; // what the callback readies or defers is posted as usual
      if (l.settled)
        l.settled();
    }
    current_lane = outer;
    drain_at where = drain_at::nowhere;
    boost::asio::io_context* host = nullptr;
    {
      std::lock_guard<std::mutex> guard(l.mtx);
      if (l.jobs.empty()) {
        l.pending = drain_at::nowhere;
        return;
      }
      host = l.host;
      where = l.pending = host ? drain_at::host : drain_at::fallback;
    }
    schedule(l, where, host);
  }

  // At the end of the outermost batch on l's host thread.
  void settle(lane& l) {
    bool due;
    {
      std::lock_guard<std::mutex> guard(l.mtx);
      due = l.pending == drain_at::host_batch;
    }
    if (due)
      drain(l, true);
    else if (l.settled)
      l.settled();
  }

  // An actor that used up its throughput goes behind what was readied meanwhile.
  static void push_back_running(lane& l, caf::resumable* job) {
    std::lock_guard<std::mutex> guard(l.mtx);
    l.jobs.push_back(job);
  }

  void run_fallback() {
    for (;;) {
      lane* l = nullptr;
      {
        std::unique_lock<std::mutex> guard(fallback_mtx);
        fallback_cv.wait(guard, [&] { return stopping || !fallback_ready.empty(); });
        if (fallback_ready.empty())
          return;
        l = fallback_ready.front();
        fallback_ready.pop_front();
      }
      drain(*l, false);
    }
  }

  lane& pick() {
    if (current_lane && current_lane->owner == this)
      return *current_lane;
    return *lanes[next.fetch_add(1, std::memory_order_relaxed) % lanes.size()];
  }

  std::vector<std::unique_ptr<lane>> lanes;
  std::atomic<size_t> next{0};
  size_t max_throughput = 300;
  std::mutex fallback_mtx;
  std::condition_variable fallback_cv;
  std::deque<lane*> fallback_ready;
  bool stopping = false;
  std::thread fallback;
  caf::detail::thread_safe_actor_clock clock;
  std::thread timer;
};

thread_local lane_scheduler::impl::lane* lane_scheduler::impl::current_lane = nullptr;
thread_local lane_scheduler::impl::lane* lane_scheduler::impl::hosted_lane = nullptr;
thread_local int lane_scheduler::impl::open_batches = 0;

lane_scheduler::lane_scheduler(caf::actor_system& sys, size_t lanes)
  : abstract_coordinator(sys), impl_(std::make_unique<impl>(sys, lanes)) {
}

lane_scheduler::~lane_scheduler() = default;

lane_scheduler* lane_scheduler::of(caf::actor_system& sys) {
  return dynamic_cast<lane_scheduler*>(&sys.scheduler());
}

void lane_scheduler::install(caf::actor_system_config& cfg, size_t lanes) {
  cfg.module_factories.push_back([lanes](caf::actor_system& sys) -> caf::actor_system::module* {
    return new lane_scheduler(sys, lanes);
  });
}

size_t lane_scheduler::lanes() const {
  return impl_->lanes.size();
}

void lane_scheduler::attach(size_t i, boost::asio::io_context& host,
                            std::function<void()> settled) {
  auto& l = *impl_->lanes.at(i);
  std::lock_guard<std::mutex> guard(l.mtx);
  l.host = &host; // a drain due on the fallback thread moves here when it ends
  l.settled = std::move(settled);
}

void lane_scheduler::enter(size_t i) {
  impl::current_lane = impl::hosted_lane = impl_->lanes.at(i).get();
}

lane_scheduler::batch::batch() : open_(impl::hosted_lane != nullptr) {
  if (open_)
    ++impl::open_batches;
}

lane_scheduler::batch::~batch() {
  if (open_ && --impl::open_batches == 0)
    impl::hosted_lane->owner->settle(*impl::hosted_lane);
}

bool lane_scheduler::batching() {
  return impl::open_batches > 0;
}

void lane_scheduler::detach(size_t i) {
  auto& l = *impl_->lanes.at(i);
  bool moved = false;
  {
    std::lock_guard<std::mutex> guard(l.mtx);
    l.host = nullptr;
    // A drain posted to the stopped host never runs: the fallback thread does it.
    if (l.pending == impl::drain_at::host) {
      l.pending = impl::drain_at::fallback;
      moved = true;
    }
  }
  if (moved)
    impl_->schedule(l, impl::drain_at::fallback, nullptr);
}

void lane_scheduler::enqueue(caf::resumable* job) {
  impl_->push(impl_->pick(), job);
}

caf::actor_clock& lane_scheduler::clock() noexcept {
  return impl_->clock;
}

void lane_scheduler::start() {
  impl_->max_throughput = max_throughput();
  impl_->fallback = std::thread([this] {
    caf::detail::set_thread_name("caf.lanes");
    system().thread_started();
    impl_->run_fallback();
    system().thread_terminates();
  });
  impl_->timer = std::thread([this] {
    caf::detail::set_thread_name("caf.clock");
    system().thread_started();
    impl_->clock.run_dispatch_loop();
    system().thread_terminates();
  });
  abstract_coordinator::start();
}

void lane_scheduler::stop() {
  stop_actors();
  for (auto& l : impl_->lanes)
    if (l->host)
      spdlog::error("lane scheduler: lane {} still has a host at shutdown", l->index);
  {
    std::lock_guard<std::mutex> guard(impl_->fallback_mtx);
    impl_->stopping = true;
  }
  impl_->fallback_cv.notify_all();
  impl_->fallback.join();
  for (auto& l : impl_->lanes) {
    for (auto* job : l->jobs)
      cleanup_and_release(job);
    l->jobs.clear();
  }
  impl_->clock.cancel_dispatch_loop();
  impl_->timer.join();
}

} // namespace chat
