// All connections of a run: who they are (user, room, node, sender role), spread over the
// I/O threads, opened with bounded concurrency, closed together; and the run-wide state
// they report to.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "options.hpp"
#include "schedule.hpp"
#include "stats.hpp"
#include "worker.hpp"

namespace chat::loadgen {

class fleet {
public:
  // endpoints: one per entry of o.ports, in the same order.
  fleet(const options& o, std::vector<boost::asio::ip::tcp::endpoint> endpoints);
  ~fleet();
  fleet(const fleet&) = delete;
  fleet& operator=(const fleet&) = delete;

  const options& opts() const { return opts_; }
  const std::string& run_id() const { return run_id_; }

  // Starts the I/O threads and the first --connect-concurrency connections; each finished
  // setup starts the next one.
  void start();
  std::size_t joined() const { return joined_.load(); }
  // Empty until a connection failed to set up; then the first failure.
  std::string failure() const;

  void start_sending(const schedule& sched);
  void close_all();
  std::size_t closed() const { return closed_.load(); }
  // Stops every I/O thread (pending work is dropped). Idempotent.
  void stop();
  totals collect() const;

  // Called by client_conn on its thread.
  void setup_done();
  void setup_failed(const std::string& why);
  void conn_closed();

private:
  void open_next();

  const options& opts_;
  const std::string run_id_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::pair<worker*, client_conn*>> conns_; // by connection index
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> joined_{0};
  std::atomic<std::size_t> closed_{0};
  std::atomic<bool> failed_{false};
  mutable std::mutex failure_mutex_;
  std::string failure_;
};

} // namespace chat::loadgen
