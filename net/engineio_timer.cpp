// Engine.IO session timers (see engineio_timer.hpp).
#include "net/engineio_timer.hpp"

#include <boost/asio/post.hpp>

namespace chat::net {

namespace {

int64_t to_ns(eio::clock::time_point t) {
  if (t == eio::clock::time_point::min())
    return INT64_MIN;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

} // namespace

engineio_timer::engineio_timer(io_worker& worker, const std::shared_ptr<eio::session>& s)
  : worker_(worker), timer_(worker.context()), session_(s) {}

void engineio_timer::tick_at(eio::clock::time_point at) {
  if (at == eio::clock::time_point::max())
    return;
  auto ns = to_ns(at);
  auto cur = armed_.load(std::memory_order_relaxed);
  while (ns < cur) {
    if (armed_.compare_exchange_weak(cur, ns, std::memory_order_relaxed)) {
      asio::post(worker_.context(), [self = shared_from_this()] { self->arm(); });
      return;
    }
  }
}

void engineio_timer::arm() {
  auto ns = armed_.load(std::memory_order_relaxed);
  if (ns == idle)
    return;
  auto at = ns == INT64_MIN ? eio::clock::time_point::min()
                            : eio::clock::time_point(std::chrono::nanoseconds(ns));
  timer_.expires_at(at); // cancels a wait for a later deadline
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec)
      self->fire();
  });
}

void engineio_timer::fire() {
  auto s = session_.lock();
  if (!s)
    return;
  armed_.store(idle, std::memory_order_relaxed);
  // tick() asks for its next deadline on the way out, which arms the timer again.
  s->tick(eio::clock::now());
}

eio::ticker_factory engineio_timers(io_worker& worker) {
  return [&worker](const std::shared_ptr<eio::session>& s) {
    return std::make_shared<engineio_timer>(worker, s);
  };
}

} // namespace chat::net
