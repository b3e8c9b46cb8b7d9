// Builds the connections of a run and drives their setup and teardown.
//
// Connection i = r + m * rooms is member m of room r and uses node (r + m) % nodes, so the
// members of every room, and the senders u0..u<S-1> (m = 0 while S <= rooms), are spread
// over all nodes. Connection i runs on I/O thread i % threads.
#include "fleet.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "client_conn.hpp"
#include "message_fields.hpp"

namespace chat::loadgen {

fleet::fleet(const options& o, std::vector<boost::asio::ip::tcp::endpoint> endpoints)
    : opts_(o), run_id_(make_run_id()) {
  for (unsigned t = 0; t < o.threads; ++t)
    workers_.push_back(std::make_unique<worker>(make_codec(o.proto)));

  const std::size_t n = o.conns;
  const std::size_t rooms = o.rooms;
  conns_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = i % rooms;
    const std::size_t m = i / rooms;
    const std::size_t node = (r + m) % endpoints.size();
    conn_spec spec;
    spec.endpoint = endpoints[node];
    spec.host = o.host + ":" + std::to_string(o.ports[node]);
    spec.user = "u" + std::to_string(i);
    spec.room = o.room_prefix + std::to_string(r);
    spec.room_members = n / rooms + (r < n % rooms ? 1 : 0);
    if (!o.idle && i < o.senders)
      spec.sender = i;
    worker& w = *workers_[i % workers_.size()];
    client_conn& c = w.adopt(std::make_unique<client_conn>(w, *this, std::move(spec)));
    conns_.emplace_back(&w, &c);
  }
}

fleet::~fleet() { stop(); }

void fleet::start() {
  for (auto& w : workers_)
    w->run();
  const std::size_t first = std::min(opts_.connect_concurrency, conns_.size());
  for (std::size_t i = 0; i < first; ++i)
    open_next();
}

void fleet::open_next() {
  if (failed_.load())
    return;
  const std::size_t i = next_.fetch_add(1);
  if (i >= conns_.size())
    return;
  auto [w, c] = conns_[i];
  boost::asio::post(w->io(), [c = c] { c->start(); });
}

std::string fleet::failure() const {
  std::lock_guard lock{failure_mutex_};
  return failure_;
}

void fleet::setup_done() {
  ++joined_;
  open_next();
}

void fleet::setup_failed(const std::string& why) {
  std::lock_guard lock{failure_mutex_};
  if (failure_.empty())
    failure_ = why;
  failed_.store(true);
}

void fleet::start_sending(const schedule& sched) {
  for (auto& w : workers_)
    w->start_sending(sched);
}

void fleet::close_all() {
  for (auto& w : workers_)
    w->close_all();
}

void fleet::conn_closed() { ++closed_; }

void fleet::stop() {
  for (auto& w : workers_)
    w->stop();
}

totals fleet::collect() const {
  totals t;
  for (const auto& w : workers_)
    t.add(w->stats());
  return t;
}

} // namespace chat::loadgen
