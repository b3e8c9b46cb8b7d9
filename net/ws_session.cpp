// WebSocket session: non-blocking reads into the worker's shared buffer, one actor
// message per read (all commands it held), gathered writes of everything queued.
#include "net/ws_session.hpp"

#include "actors/lane_scheduler.hpp"
#include "config/log.hpp"
#include "net/native_codec.hpp"

#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/uio.h>
#include <caf/send.hpp>

namespace chat::net {

ws_session::ws_session(asio::ip::tcp::socket sock, std::unique_ptr<tls_stream> tls,
                       io_worker& io, session_limits limits, uint64_t id,
                       node_counters& counters, closed_fn on_closed)
  : sock_(std::move(sock)),
    tls_(std::move(tls)),
    io_(io),
    limits_(limits),
    id_(id),
    counters_(counters),
    on_closed_(std::move(on_closed)),
    parser_(limits.max_frame_bytes) {
  boost::system::error_code ec;
  auto ep = socket().remote_endpoint(ec);
  if (!ec)
    remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  started_ = last_read_ = std::chrono::steady_clock::now();
  read_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(last_read_.time_since_epoch())
               .count(); // bytes read with the upgrade request count from here
}

ws_session::~ws_session() = default;

void ws_session::start(connection_actor conn, std::string leftover) {
  conn_ = std::move(conn);
  io_.add(this);
  if (!leftover.empty())
    parse(leftover.data(), leftover.size());
  if (tls_) {
    tls_in_.resize(16384); // one TLS record's plaintext at most
    read_tls();
    return;
  }
  sock_.non_blocking(true);
  wait_readable();
}

void ws_session::start(std::shared_ptr<ws_message_sink> sink, std::string leftover) {
  sink_ = std::move(sink);
  start(connection_actor{}, std::move(leftover));
}

bool ws_session::push(frame_ptr frame) {
  bool schedule = false;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (closed_)
      return false;
    if (bytes_ + frame->size() > limits_.queue_bytes) {
      closed_ = true;
      closing_.store(true, std::memory_order_relaxed);
      queue_.clear();
      close_reason_ = "slow consumer";
      counters_.slow_consumer_drops.fetch_add(1, std::memory_order_relaxed);
      asio::post(io_.context(), [self = shared_from_this()] { self->abort("slow consumer"); });
      return false;
    }
    schedule = enqueue_locked(std::move(frame));
  }
  if (schedule)
    io_.schedule_flush(shared_from_this());
  return true;
}

void ws_session::close(uint16_t code, const std::string& reason) {
  bool schedule = false;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (closed_)
      return;
    closed_ = true;
    closing_.store(true, std::memory_order_relaxed);
    close_reason_ = reason.empty() ? "closed" : reason;
    schedule = enqueue_locked(std::make_shared<const std::string>(encode_close(code, reason)));
  }
  if (schedule)
    io_.schedule_flush(shared_from_this());
}

bool ws_session::enqueue_locked(frame_ptr frame) {
  bytes_ += frame->size();
  queue_.push_back(std::move(frame));
  if (flush_scheduled_)
    return false;
  flush_scheduled_ = true;
  return true;
}

uint64_t ws_session::queued_bytes() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return bytes_;
}

void ws_session::when_drained(uint64_t low, std::function<void()> ready) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (closed_)
      return;
    if (bytes_ > low) {
      drain_waiters_.emplace_back(low, std::move(ready));
      return;
    }
  }
  ready();
}

void ws_session::flush() {
  while (!write_in_flight_ && !finished_) {
    {
      std::lock_guard<std::mutex> guard(mtx_);
      if (queue_.empty()) {
        flush_scheduled_ = false;
        return;
      }
      writing_.swap(queue_);
    }
    frames_out_.fetch_add(writing_.size(), std::memory_order_relaxed);
    size_t total = 0;
    for (auto& f : writing_)
      total += f->size();
    if (tls_) { // every write goes through the TLS stream
      write_rest(0);
      return;
    }
    // Usually the socket takes everything at once: one gathered send, no asynchronous operation.
    size_t written = write_now();
    if (written == SIZE_MAX)
      return; // failed and finished
    if (written < total) {
      write_rest(written);
      return;
    }
    if (written_done(total, true))
      return;
  }
}

size_t ws_session::write_now() {
  constexpr size_t max_iov = 64;
  iovec iov[max_iov];
  size_t written = 0;
  size_t frame = 0;
  size_t offset = 0; // into writing_[frame]
  while (frame < writing_.size()) {
    size_t n = 0;
    size_t bytes = 0;
    for (size_t k = frame; k < writing_.size() && n < max_iov; ++k, ++n) {
      size_t skip = k == frame ? offset : 0;
      iov[n].iov_base = const_cast<char*>(writing_[k]->data() + skip);
      iov[n].iov_len = writing_[k]->size() - skip;
      bytes += iov[n].iov_len;
    }
    // sendmsg, not writev: MSG_NOSIGNAL keeps a reset peer from raising SIGPIPE whatever
    // the embedding process does with that signal.
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    ssize_t r = ::sendmsg(sock_.native_handle(), &msg, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return written;
      finish(reason_or(std::string("write error: ") + std::strerror(errno)));
      return SIZE_MAX;
    }
    written += size_t(r);
    for (size_t left = size_t(r); left > 0;) {
      size_t in_frame = writing_[frame]->size() - offset;
      if (left < in_frame) {
        offset += left;
        left = 0;
      } else {
        left -= in_frame;
        ++frame;
        offset = 0;
      }
    }
    if (size_t(r) < bytes)
      return written; // the socket buffer is full
  }
  return written;
}

void ws_session::write_rest(size_t already) {
  buffers_.clear();
  size_t skip = already;
  for (auto& f : writing_) {
    if (skip >= f->size()) {
      skip -= f->size();
      continue;
    }
    buffers_.emplace_back(f->data() + skip, f->size() - skip);
    skip = 0;
  }
  write_in_flight_ = true;
  auto done = [self = shared_from_this(), already](boost::system::error_code ec, size_t n) {
    self->write_in_flight_ = false;
    if (ec) {
      self->writing_.clear();
      self->finish(self->reason_or("write error: " + ec.message()));
      return;
    }
    self->written_done(already + n);
    self->flush();
  };
  if (tls_)
    asio::async_write(*tls_, buffers_, std::move(done));
  else
    asio::async_write(sock_, buffers_, std::move(done));
}

bool ws_session::written_done(size_t written, bool settle) {
  bool closed = false;
  bool empty = false;
  std::vector<std::function<void()>> drained;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    bytes_ = bytes_ > written ? bytes_ - written : 0;
    closed = closed_;
    empty = queue_.empty();
    if (empty && settle)
      flush_scheduled_ = false;
    for (size_t i = 0; i < drain_waiters_.size();) {
      if (drain_waiters_[i].first < bytes_) {
        ++i;
        continue;
      }
      drained.push_back(std::move(drain_waiters_[i].second));
      drain_waiters_[i] = std::move(drain_waiters_.back());
      drain_waiters_.pop_back();
    }
  }
  for (auto& ready : drained)
    ready();
  writing_.clear();
  if (closed && empty && !send_shut_) {
    boost::system::error_code ignored;
    socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    send_shut_ = true;
    close_started_ = std::chrono::steady_clock::now();
  }
  return empty;
}

void ws_session::tick(std::chrono::steady_clock::time_point now) {
  if (finished_)
    return;
  bool closed;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    closed = closed_;
  }
  if (closed) {
    // A peer that never completes the closing handshake is dropped after a grace period.
    if (close_started_ == std::chrono::steady_clock::time_point{})
      close_started_ = now;
    else if (now - close_started_ > std::chrono::seconds(3))
      finish(reason_or("close timeout"));
    return;
  }
  auto since = parser_.incomplete_since();
  if (since >= 0 && now.time_since_epoch() - std::chrono::nanoseconds(since) > limits_.frame_timeout) {
    violation(ws_violation::frame_timeout, 1008, "frame not completed within net.frame-timeout");
    return;
  }
  auto idle = now - last_read_;
  if (idle > limits_.idle_timeout) {
    close(1001, "idle timeout");
  } else if (!ping_sent_ && idle > limits_.idle_timeout / 2) {
    ping_sent_ = true;
    push_control(encode_frame(ws_opcode::ping, {}));
  }
}

void ws_session::wait_readable() {
  sock_.async_wait(asio::ip::tcp::socket::wait_read,
                   [self = shared_from_this()](boost::system::error_code ec) {
                     if (ec) {
                       self->finish(self->reason_or(ec.message()));
                       return;
                     }
                     self->on_readable();
                   });
}

void ws_session::on_readable() {
  if (finished_)
    return;
  auto& buf = io_.scratch();
  boost::system::error_code ec;
  size_t n = sock_.read_some(asio::buffer(buf), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    wait_readable();
    return;
  }
  if (ec) {
    finish(reason_or(ec == asio::error::eof ? "client closed" : ec.message()));
    return;
  }
  {
    lane_scheduler::batch batch; // the actors and writes this read causes run before it returns
    on_bytes(buf.data(), n);
  }
  if (!finished_)
    wait_readable();
}

void ws_session::read_tls() {
  tls_->async_read_some(asio::buffer(tls_in_),
                        [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                          if (self->finished_)
                            return;
                          if (ec) {
                            self->finish(self->reason_or(
                              ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                                ? "client closed"
                                : ec.message()));
                            return;
                          }
                          {
                            lane_scheduler::batch batch;
                            self->on_bytes(self->tls_in_.data(), n);
                          }
                          if (!self->finished_)
                            self->read_tls();
                        });
}

void ws_session::on_bytes(char* data, size_t size) {
  last_read_ = std::chrono::steady_clock::now();
  read_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(last_read_.time_since_epoch())
               .count();
  ping_sent_ = false;
  parse(data, size);
}

void ws_session::parse(char* data, size_t size) {
  // After a close frame either way or a violation the rest is read only to be dropped, so
  // the peer gets our close frame instead of a reset, until it closes or the grace ends.
  if (!parser_.stopped() && !closing_.load(std::memory_order_relaxed))
    parser_.feed(data, size, *this, read_ns_);
  if (pong_due_) { // queued before the replies to this read's commands
    pong_due_ = false;
    push_control(encode_frame(ws_opcode::pong, pong_payload_));
  }
  if (!batch_.empty() || controls_ > 0) {
    if (conn_) // a sink has no rate limit on control frames
      caf::anon_send(conn_, c_cmds_atom::value, std::move(batch_), controls_);
    batch_.clear();
    controls_ = 0;
  }
}

void ws_session::on_message(ws_opcode op, std::string_view payload) {
  frames_in_.fetch_add(1, std::memory_order_relaxed);
  if (sink_) {
    sink_->on_ws_message(*this, op == ws_opcode::binary, payload);
    return;
  }
  if (op == ws_opcode::binary)
    batch_.push_back(invalid_command("binary frames are not supported; send JSON text frames"));
  else
    batch_.push_back(decode_native(payload));
  batch_.back().t0_ns = read_ns_;
}

void ws_session::on_ping(std::string_view payload) {
  ++controls_;
  pong_payload_.assign(payload.data(), payload.size());
  pong_due_ = true;
}

void ws_session::on_pong(std::string_view) {
  ++controls_;
}

void ws_session::on_close(uint16_t code, std::string_view) {
  close(code == 1005 ? 1000 : code, ""); // the client's code is echoed
  std::lock_guard<std::mutex> guard(mtx_);
  close_reason_ = "client closed (" + std::to_string(code) + ")";
}

void ws_session::on_protocol_error(uint16_t code, const char* reason) {
  auto kind = code == 1007   ? ws_violation::invalid_utf8
              : code == 1009 ? ws_violation::too_big
                             : ws_violation::protocol;
  violation(kind, code, reason);
}

void ws_session::violation(ws_violation kind, uint16_t code, const char* reason) {
  counters_.ws_violations[size_t(kind)].fetch_add(1, std::memory_order_relaxed);
  CHAT_LOG_LIMITED(spdlog::level::warn, "connection {} (user {} from {}) closed with {}: {}", id_,
                   user_, remote_, code, reason);
  close(code, reason);
}

std::string ws_session::reason_or(const std::string& fallback) const {
  std::lock_guard<std::mutex> guard(mtx_);
  return close_reason_.empty() ? fallback : close_reason_;
}

void ws_session::push_control(std::string frame) {
  push(std::make_shared<const std::string>(std::move(frame)));
}

void ws_session::abort(const std::string& reason) {
  if (finished_)
    return;
  if (!write_in_flight_ && !tls_) {
    // Best effort: the peer may still read the reason if its buffer has room.
    auto frame = encode_close(1008, reason);
    boost::system::error_code ignored;
    sock_.write_some(asio::buffer(frame), ignored);
  }
  finish(reason);
}

void ws_session::finish(const std::string& reason) {
  if (finished_)
    return;
  finished_ = true;
  decltype(drain_waiters_) dropped;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    closed_ = true; // nothing waits for a queue that will never drain
    dropped.swap(drain_waiters_);
  }
  counters_.closed_frames_in.fetch_add(frames_in(), std::memory_order_relaxed);
  counters_.closed_frames_out.fetch_add(frames_out(), std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket().close(ignored);
  io_.remove(this);
  if (conn_)
    caf::anon_send(conn_, c_closed_atom::value, reason);
  if (auto sink = std::move(sink_))
    sink->on_ws_closed(*this, reason);
  if (on_closed_)
    on_closed_(*this, reason);
}

} // namespace chat::net
