// Open-loop sending for the senders of one I/O thread: every message is issued at its
// scheduled time, independently of replies; when the thread falls behind, the overdue
// messages go out at once and keep their scheduled time for the latency.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "schedule.hpp"

namespace chat::loadgen {

class client_conn;

class pacer {
public:
  struct slot {
    client_conn* conn;
    uint64_t sender; // its sender number j
  };

  explicit pacer(boost::asio::io_context& io);

  // Runs on the I/O thread. `slots` ascend by sender number; `sched` must outlive the run.
  void start(std::vector<slot> slots, const schedule& sched);

private:
  void tick();
  int64_t next_due() const { return sched_->due(slots_[index_].sender, round_); }

  boost::asio::io_context& io_;
  boost::asio::steady_timer timer_;
  std::vector<slot> slots_;
  const schedule* sched_ = nullptr;
  std::size_t index_ = 0; // next slot
  uint64_t round_ = 0;    // message number k of every sender in this round
};

} // namespace chat::loadgen
