// The network threads: one io_context per thread, each owning its sessions (no strands
// needed). A worker also gathers "this session has frames to write" notifications from
// actor threads and turns many of them into one wake-up of its thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

namespace chat {
class lane_scheduler;
}

namespace chat::net {

namespace asio = boost::asio;

class ws_session;

class io_worker {
public:
  // `loop`, when given, is an io_context shared with others that must keep it running
  // after the network stops (the Redis client): the worker is then "pinned" (see stop()).
  explicit io_worker(std::chrono::milliseconds tick_interval,
                     std::shared_ptr<asio::io_context> loop = nullptr);

  asio::io_context& context() { return *ioc_; }
  // Thread-safe: the session's write queue became non-empty. On this worker's own thread
  // (where the actors of its lane run) no lock is taken, and inside a lane batch or drain
  // the session is flushed at its end rather than by a posted handler.
  void schedule_flush(std::shared_ptr<ws_session> s);
  // Read buffer shared by the sessions of this thread (a session keeps only partial frames).
  std::array<char, 65536>& scratch() { return scratch_; }
  // Io thread only.
  void add(ws_session* s) { sessions_.insert(s); }
  void remove(ws_session* s) { sessions_.erase(s); }
  size_t sessions() const { return sessions_.size(); }

  // This thread also runs the actors of lane `lane` (scheduler policy 'network').
  void host_actors(lane_scheduler& lanes, size_t lane);

  // Before start(): a woken thread looks for more work at most once per `d` (net.batch-delay).
  void set_batch_delay(std::chrono::microseconds d) { batch_delay_ = d; }

  void start();
  void stop();
  void join();
  bool pinned() const { return pinned_; }
  // Runs fn on this worker's thread and returns when it has run (the thread must be running
  // and fn must not wait for it).
  void run_here(const std::function<void()>& fn);

private:
  void run_loop();
  void run_flushes();
  void flush_local(); // the sessions scheduled on this thread (no lock)
  void arm_tick();

  std::shared_ptr<asio::io_context> ioc_; // first: outlives what is bound to it
  bool pinned_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer tick_;
  std::chrono::milliseconds tick_interval_;
  std::chrono::microseconds batch_delay_{0};
  std::mutex mtx_;
  std::vector<std::shared_ptr<ws_session>> pending_, running_;
  bool posted_ = false;
  std::vector<std::shared_ptr<ws_session>> local_; // scheduled on this thread: no lock
  std::vector<std::shared_ptr<ws_session>> local_running_;
  bool flushing_local_ = false;
  bool local_posted_ = false;
  std::array<char, 65536> scratch_;
  std::unordered_set<ws_session*> sessions_;
  lane_scheduler* lanes_ = nullptr;
  size_t lane_ = 0;
  std::thread thread_;
};

class io_pool {
public:
  // Worker 0 runs `first_loop` when one is given (see io_worker).
  io_pool(size_t threads, std::chrono::milliseconds tick_interval,
          std::shared_ptr<asio::io_context> first_loop = nullptr);
  io_worker& next();
  std::vector<std::unique_ptr<io_worker>>& workers() { return workers_; }
  // Worker i hosts lane i of a lane scheduler (one lane per network thread).
  void host_actors(lane_scheduler& lanes);
  void set_batch_delay(std::chrono::microseconds d);
  void start();
  // Stops and joins the workers; a pinned worker only when `pinned_too`.
  void stop(bool pinned_too = true);

private:
  std::vector<std::unique_ptr<io_worker>> workers_;
  size_t next_ = 0;
};

} // namespace chat::net
