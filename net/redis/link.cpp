// One Redis connection: connect/handshake/reconnect state machine and batched I/O.
#include "net/redis/link.hpp"

#include "config/log.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <chrono>

namespace chat::redis {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

link::link(asio::io_context& io, endpoint where, const settings& s, stats& st, owner& o)
  : where_(std::move(where)), settings_(s), stats_(st), owner_(o), resolver_(io),
    socket_(io), timer_(io), backoff_(s.reconnect_min, s.reconnect_max),
    reader_(s.max_reply_bytes) {}

std::string link::name() const { return where_.host + ":" + std::to_string(where_.port); }

void link::start() {
  if (state_ == state::idle)
    connect();
}

void link::stop() {
  state_ = state::stopped;
  ++generation_;
  timer_.cancel();
  resolver_.cancel();
  close_socket();
}

void link::close_socket() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  out_.clear();
  writing_.clear();
  write_running_ = false;
}

void link::connect() {
  state_ = state::connecting;
  auto gen = ++generation_;
  auto self = shared_from_this();
  timer_.expires_after(settings_.connect_timeout);
  timer_.async_wait([this, self, gen](boost::system::error_code ec) {
    if (!ec && gen == generation_)
      fail("connect timeout");
  });
  resolver_.async_resolve(
    where_.host, std::to_string(where_.port),
    [this, self, gen](boost::system::error_code ec, tcp::resolver::results_type results) {
      if (gen != generation_)
        return;
      if (ec)
        return fail("resolve: " + ec.message());
      asio::async_connect(socket_, results,
                          [this, self, gen](boost::system::error_code ec, const tcp::endpoint&) {
                            if (gen != generation_)
                              return;
                            if (ec)
                              return fail("connect: " + ec.message());
                            on_connected();
                          });
    });
}

void link::on_connected() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  reader_.reset();
  last_read_ns_ = now_ns();
  state_ = state::handshake;
  handshake_left_ = 0;
  if (!settings_.password.empty()) {
    if (settings_.user.empty())
      append_command(out_, {"AUTH", settings_.password});
    else
      append_command(out_, {"AUTH", settings_.user, settings_.password});
    ++handshake_left_;
  }
  if (settings_.db != 0) {
    append_command(out_, {"SELECT", std::to_string(settings_.db)});
    ++handshake_left_;
  }
  read_more();
  if (handshake_left_ == 0)
    become_up();
  else
    flush();
}

void link::become_up() {
  state_ = state::up;
  timer_.cancel();
  backoff_.reset();
  stats_.connects.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("redis {}: connected", name());
  owner_.on_link_up();
}

std::string handshake_refusal(const reply& r) {
  return r.is_error() ? "handshake refused: " + r.str : std::string();
}

void link::handle_handshake_reply(const reply& r) {
  if (auto refusal = handshake_refusal(r); !refusal.empty())
    return fail(refusal);
  if (--handshake_left_ == 0)
    become_up();
}

void link::read_more() {
  auto self = shared_from_this();
  auto gen = generation_;
  socket_.async_read_some(asio::buffer(read_buf_),
                          [this, self, gen](boost::system::error_code ec, size_t n) {
                            if (gen != generation_)
                              return;
                            if (ec)
                              return fail(ec == asio::error::eof ? "closed by the server"
                                                                 : "read: " + ec.message());
                            on_read(n);
                          });
}

void link::on_read(size_t n) {
  last_read_ns_ = now_ns();
  if (!reader_.feed(read_buf_.data(), n))
    return fail("protocol error: " + reader_.error());
  auto gen = generation_;
  bool go_on = false;
  auto handle = [&] { go_on = handle_replies(); };
  if (settings_.read_scope)
    settings_.read_scope(handle);
  else
    handle();
  // What ran at the scope's end may have reset the link too.
  if (go_on && gen == generation_)
    read_more();
}

bool link::handle_replies() {
  auto gen = generation_;
  reply r;
  while (true) {
    int got = reader_.next(r);
    if (got < 0) {
      fail("protocol error: " + reader_.error());
      return false;
    }
    if (got == 0)
      return true;
    if (state_ == state::handshake)
      handle_handshake_reply(r);
    else
      owner_.on_link_reply(std::move(r));
    // The owner (or a failed handshake) may have reset or stopped this link.
    if (gen != generation_)
      return false;
  }
}

void link::flush() {
  if (write_running_ || out_.empty() || (state_ != state::up && state_ != state::handshake))
    return;
  write_some();
}

void link::write_some() {
  writing_.swap(out_);
  write_running_ = true;
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  auto self = shared_from_this();
  auto gen = generation_;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this, self, gen](boost::system::error_code ec, size_t) {
                      if (gen != generation_)
                        return;
                      write_running_ = false;
                      if (ec)
                        return fail("write: " + ec.message());
                      writing_.clear();
                      // One large burst should not pin its buffer for the link's lifetime.
                      if (writing_.capacity() > (1u << 20))
                        std::string().swap(writing_);
                      if (!out_.empty())
                        write_some();
                    });
}

void link::reset(const std::string& why) {
  if (state_ != state::stopped && state_ != state::idle && state_ != state::waiting)
    fail(why);
}

void link::fail(const std::string& why) {
  if (state_ == state::stopped)
    return;
  bool was_up = state_ == state::up;
  ++generation_;
  resolver_.cancel();
  close_socket();
  state_ = state::waiting;
  auto delay = backoff_.next();
  if (was_up) {
    stats_.disconnects.fetch_add(1, std::memory_order_relaxed);
    CHAT_LOG_LIMITED(spdlog::level::warn, "redis {}: connection lost ({}), reconnecting",
                     name(), why);
  } else {
    stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
    CHAT_LOG_LIMITED(spdlog::level::warn, "redis {}: cannot connect ({}), retry in {} ms",
                     name(), why, delay.count());
  }
  auto self = shared_from_this();
  auto gen = generation_;
  timer_.expires_after(delay);
  timer_.async_wait([this, self, gen](boost::system::error_code ec) {
    if (!ec && gen == generation_)
      connect();
  });
  if (was_up)
    owner_.on_link_down(why);
}

} // namespace chat::redis
