// Runs one io_context on its own thread and forwards run-wide commands to it.
#include "worker.hpp"

#include <boost/asio/post.hpp>

namespace chat::loadgen {

worker::worker(std::unique_ptr<protocol_codec> codec)
    : guard_(boost::asio::make_work_guard(io_)), codec_(std::move(codec)), pacer_(io_) {}

worker::~worker() { stop(); }

client_conn& worker::adopt(std::unique_ptr<client_conn> conn) {
  conns_.push_back(std::move(conn));
  return *conns_.back();
}

void worker::run() {
  thread_ = std::thread([this] { io_.run(); });
}

void worker::start_sending(const schedule& sched) {
  boost::asio::post(io_, [this, sched] {
    sched_ = sched;
    std::vector<pacer::slot> slots;
    for (const auto& c : conns_)
      if (c->spec().sender)
        slots.push_back({c.get(), *c->spec().sender});
    pacer_.start(std::move(slots), sched_);
  });
}

void worker::close_all() {
  boost::asio::post(io_, [this] {
    for (const auto& c : conns_)
      c->close();
  });
}

void worker::stop() {
  guard_.reset();
  io_.stop();
  if (thread_.joinable())
    thread_.join();
}

} // namespace chat::loadgen
