// The lane scheduler (see the header). A lane is a queue of ready actors and a "drain"
// pending on at most one thread at a time: its host's io_context while a host is attached,
// else the fallback thread. A drain runs what the lane held when it started (actors that
// ask to run again go to the back), then yields to the host's socket handlers.
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
#include <mutex>
#include <thread>
#include <vector>

namespace chat {

struct lane_scheduler::impl {
  enum class drain_at { nowhere, host, fallback };

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
    std::vector<caf::resumable*> running; // the drain's batch (one drain at a time)
  };

  // The lane the current thread is draining or hosting; enqueues from it stay on it.
  static thread_local lane* current_lane;

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
      host = l.host;
      where = l.pending = host ? drain_at::host : drain_at::fallback;
    }
    schedule(l, where, host);
  }

  void schedule(lane& l, drain_at where, boost::asio::io_context* host) {
    if (where == drain_at::host) {
      boost::asio::post(*host, [this, &l] { drain(l); });
      return;
    }
    {
      std::lock_guard<std::mutex> guard(fallback_mtx);
      fallback_ready.push_back(&l);
    }
    fallback_cv.notify_one();
  }

  void drain(lane& l) {
    auto* outer = current_lane;
    current_lane = &l;
    {
      std::lock_guard<std::mutex> guard(l.mtx);
      l.running.assign(l.jobs.begin(), l.jobs.end());
      l.jobs.clear();
    }
    for (auto* job : l.running) {
      switch (job->resume(&l, max_throughput)) {
        case caf::resumable::resume_later:
          push_back_running(l, job);
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
      drain(*l);
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

void lane_scheduler::attach(size_t i, boost::asio::io_context& host) {
  auto& l = *impl_->lanes.at(i);
  std::lock_guard<std::mutex> guard(l.mtx);
  l.host = &host; // a drain due on the fallback thread moves here when it ends
}

void lane_scheduler::enter(size_t i) {
  impl::current_lane = impl_->lanes.at(i).get();
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
