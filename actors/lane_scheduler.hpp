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
  // From now on lane i's actors run on `host` (which a thread runs).
  void attach(size_t lane, boost::asio::io_context& host);
  // Called once on the host thread of lane i before it runs its io_context: actors it
  // readies stay on its lane.
  void enter(size_t lane);
  // The host of lane i stopped and its thread was joined: the fallback thread takes over.
  void detach(size_t lane);

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
