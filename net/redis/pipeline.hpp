// One command connection to one server: a link plus the FIFO of commands written on it and
// not yet answered (Redis answers in order, so each reply belongs to the FIFO's head).
// Watches the head's age (command-timeout: the connection is reset, everything in flight
// fails) and pings an idle connection so that a dead one is noticed without traffic.
#pragma once

#include "net/redis/link.hpp"
#include "net/redis/request.hpp"

#include <deque>
#include <memory>

namespace chat::redis {

class pipeline final : public link::owner {
public:
  class events {
  public:
    virtual void on_pipeline_up(pipeline& p) = 0;
    virtual void on_pipeline_down(pipeline& p) = 0;
    virtual void on_pipeline_reply(pipeline& p, request&& r, reply&& value) = 0;
    // A command in flight will get no reply (its connection dropped or timed out).
    virtual void on_pipeline_failed(request&& r, failure why) = 0;

  protected:
    ~events() = default;
  };

  pipeline(boost::asio::io_context& io, endpoint where, const settings& s, stats& st,
           events& ev);
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  void start() { link_->start(); }
  // Closes the connection; commands in flight fail with `why`.
  void stop(failure why);
  bool up() const { return link_->up(); }
  const endpoint& where() const { return link_->where(); }
  std::string name() const { return link_->name(); }
  size_t in_flight() const { return inflight_.size(); }

  // Writes `r` (only while up); flush() once after a batch of sends.
  void send(request&& r);
  void flush() { link_->flush(); }
  void tick(int64_t now);

private:
  void on_link_up() override { ev_.on_pipeline_up(*this); }
  void on_link_down(const std::string& why) override;
  void on_link_reply(reply&& r) override;
  void fail_all(failure head, failure rest);

  stats& stats_;
  events& ev_;
  std::shared_ptr<link> link_;
  std::deque<request> inflight_;
  int64_t timeout_ns_, ping_after_ns_;
  int64_t last_ping_ns_ = 0;
  bool timed_out_ = false;
};

} // namespace chat::redis
