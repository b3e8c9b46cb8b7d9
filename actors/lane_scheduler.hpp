// A CAF scheduler that runs actors on threads which also do other work: the network
// threads ([scheduler] policy='network'). Each network thread serves one lane (a queue of
// ready actors) between its socket handlers, so a frame read on a thread is handled by
// the connection and room actors and written to the members' sockets on that same thread,
// without waking another one. A fallback thread serves the lanes while no network thread
// does (before the listeners start, after they stop), so an actor never waits for a host.
#pragma once

#include <caf/scheduler/abstract_coordinator.hpp>

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>

namespace caf {
class actor_system_config;
}

namespace chat {

class lane_scheduler final : public caf::scheduler::abstract_coordinator {
public:
  lane_scheduler(caf::actor_system& sys, size_t lanes);
  ~lane_scheduler() override;

  // The scheduler of `sys` when it is a lane_scheduler, else nullptr.
  static lane_scheduler* of(caf::actor_system& sys);
  // Makes the actor system built from `cfg` use a lane_scheduler with `lanes` lanes.
  static void install(caf::actor_system_config& cfg, size_t lanes);

  size_t lanes() const;
  // From now on lane i's actors run on `host` (which a thread runs). `settled`, when
  // given, runs on the host thread at the end of each drain there: the host's writes
  // deferred while the lane ran (see batch).
  void attach(size_t lane, boost::asio::io_context& host, std::function<void()> settled = {});
  // Called once on the host thread of lane i before it runs its io_context: actors it
  // readies stay on its lane.
  void enter(size_t lane);
  // The host of lane i stopped and its thread was joined: the fallback thread takes over.
  void detach(size_t lane);

  // Opened by a host thread's socket handler: the actors it readies on the thread's lane
  // run when the outermost batch closes, inline, not in a drain posted behind the next
  // poll of the sockets; a read, its actors and their writes then take one handler.
  // Does nothing on a thread that hosts no lane.
  class batch {
  public:
    batch();
    ~batch();
    batch(const batch&) = delete;
    batch& operator=(const batch&) = delete;

  private:
    bool open_;
  };
  // A batch or a drain is open on this host thread: work deferred now runs at its end
  // (the `settled` callback of attach).
  static bool batching();

  void enqueue(caf::resumable* job) override;
  caf::actor_clock& clock() noexcept override;

protected:
  void start() override;
  void stop() override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace chat
