// The ticker of one Engine.IO session (engineio_session.hpp): a steady_timer on the network
// thread that opened the session, armed at the earliest deadline the session asked for.
// Asking is cheap from any thread (an atomic compare when the deadline is not earlier than
// the one armed); only an earlier deadline posts to the network thread.
#pragma once

#include "net/engineio_session.hpp"
#include "net/io_pool.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace chat::net {

class engineio_timer final : public eio::ticker,
                             public std::enable_shared_from_this<engineio_timer> {
public:
  engineio_timer(io_worker& worker, const std::shared_ptr<eio::session>& s);

  void tick_at(eio::clock::time_point at) override;

private:
  void arm();  // network thread
  void fire(); // network thread

  io_worker& worker_;
  asio::steady_timer timer_;
  std::weak_ptr<eio::session> session_;
  static constexpr int64_t idle = INT64_MAX;
  // The deadline armed or about to be (steady clock nanoseconds); idle when none.
  std::atomic<int64_t> armed_{idle};
};

// A ticker factory for sessions opened on `worker`: each session gets its own timer.
eio::ticker_factory engineio_timers(io_worker& worker);

} // namespace chat::net
