// Command FIFO, command timeout and keepalive of one command connection.
#include "net/redis/pipeline.hpp"

#include <algorithm>

namespace chat::redis {

namespace {

int64_t ns(millis d) { return int64_t(d.count()) * 1000000; }

} // namespace

pipeline::pipeline(boost::asio::io_context& io, endpoint where, const settings& s, stats& st,
                   events& ev)
  : stats_(st), ev_(ev), link_(std::make_shared<link>(io, std::move(where), s, st, *this)),
    timeout_ns_(ns(s.command_timeout)),
    ping_after_ns_(std::clamp<int64_t>(ns(s.command_timeout) / 2, ns(millis(50)),
                                       ns(millis(1000)))) {}

pipeline::~pipeline() { link_->stop(); }

void pipeline::stop(failure why) {
  link_->stop();
  fail_all(why, why);
}

void pipeline::send(request&& r) {
  r.sent_ns = now_ns();
  link_->out().append(r.bytes);
  inflight_.push_back(std::move(r));
}

void pipeline::on_link_reply(reply&& r) {
  if (inflight_.empty()) {
    // Redis never speaks unasked on a command connection; the stream is out of step.
    stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
    link_->reset("reply without a command");
    return;
  }
  request head = std::move(inflight_.front());
  inflight_.pop_front();
  ev_.on_pipeline_reply(*this, std::move(head), std::move(r));
}

void pipeline::on_link_down(const std::string&) {
  fail_all(timed_out_ ? failure::timeout : failure::lost, failure::lost);
  timed_out_ = false;
  ev_.on_pipeline_down(*this);
}

void pipeline::fail_all(failure head, failure rest) {
  std::deque<request> dropped;
  dropped.swap(inflight_);
  bool first = true;
  for (auto& r : dropped) {
    ev_.on_pipeline_failed(std::move(r), first ? head : rest);
    first = false;
  }
}

void pipeline::tick(int64_t now) {
  if (!link_->up())
    return;
  if (!inflight_.empty()) {
    if (now - inflight_.front().sent_ns > timeout_ns_) {
      stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
      timed_out_ = true;
      link_->reset("no reply within redis.command-timeout");
    }
    return;
  }
  if (now - link_->last_read_ns() > ping_after_ns_ && now - last_ping_ns_ > ping_after_ns_) {
    last_ping_ns_ = now;
    request ping;
    append_command(ping.bytes, {"PING"});
    ping.internal = true;
    send(std::move(ping));
    flush();
  }
}

} // namespace chat::redis
