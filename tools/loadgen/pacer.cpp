// Walks one I/O thread's share of the open-loop send schedule with a single timer.
#include "pacer.hpp"

#include <chrono>

#include <boost/asio/post.hpp>

#include "client_conn.hpp"

namespace chat::loadgen {

namespace {
// Overdue messages issued before other handlers (reads) get a turn.
constexpr int max_burst = 256;
} // namespace

pacer::pacer(boost::asio::io_context& io) : io_(io), timer_(io) {}

void pacer::start(std::vector<slot> slots, const schedule& sched) {
  slots_ = std::move(slots);
  sched_ = &sched;
  index_ = 0;
  round_ = 0;
  if (!slots_.empty())
    tick();
}

void pacer::tick() {
  const int64_t now = now_ns();
  for (int burst = 0;; ++burst) {
    const int64_t due = next_due();
    if (due >= sched_->measure_end)
      return; // the schedule ascends: nothing more to send
    if (due > now) {
      timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(due)));
      timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
          tick();
      });
      return;
    }
    if (burst == max_burst) {
      boost::asio::post(io_, [this] { tick(); });
      return;
    }
    slots_[index_].conn->send_due(due, round_);
    if (++index_ == slots_.size()) {
      index_ = 0;
      ++round_;
    }
  }
}

} // namespace chat::loadgen
