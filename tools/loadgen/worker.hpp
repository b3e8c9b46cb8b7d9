// One I/O thread: its io_context, the connections it serves, their codec, counters and
// schedule copy, and the pacer of its senders.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "client_conn.hpp"
#include "pacer.hpp"
#include "protocol_codec.hpp"
#include "schedule.hpp"
#include "stats.hpp"

namespace chat::loadgen {

class worker {
public:
  explicit worker(std::unique_ptr<protocol_codec> codec);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  boost::asio::io_context& io() { return io_; }
  protocol_codec& codec() { return *codec_; }
  thread_stats& stats() { return stats_; }
  const thread_stats& stats() const { return stats_; }
  // The I/O thread's copy of the run's schedule; read it on that thread only.
  const schedule& sched() const { return sched_; }

  // Before run(): hands a connection to this thread.
  client_conn& adopt(std::unique_ptr<client_conn> conn);
  void run();
  // Thread-safe: install the schedule and start the pacer / close every connection.
  void start_sending(const schedule& sched);
  void close_all();
  // Idempotent: stops the io_context and joins the thread (from the controlling thread).
  void stop();

private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<protocol_codec> codec_;
  thread_stats stats_;
  schedule sched_;
  std::vector<std::unique_ptr<client_conn>> conns_;
  pacer pacer_;
  std::thread thread_;
};

} // namespace chat::loadgen
