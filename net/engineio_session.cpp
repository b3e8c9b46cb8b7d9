// Engine.IO session state machine. Two locks: entry_mtx_ serializes the glue's entry
// points (and so every handler call), mtx_ guards the state and is never held while the
// handler runs or a poll is woken. Lock order: entry_mtx_, then mtx_, then a ws_link's own.
#include "net/engineio_session.hpp"

#include "config/log.hpp"
#include "net/unicode.hpp"

namespace chat::net::eio {

// Holds entry_mtx_ for one entry point; on the way out tells the handler if the session
// closed meanwhile (whoever closed it: this entry, another thread's push or close) and
// asks the ticker for the next deadline.
class session::entry {
public:
  explicit entry(session& s) : s_(s), lock_(s.entry_mtx_) {}
  ~entry() {
    s_.notify_closed();
    s_.request_tick();
  }
  entry(const entry&) = delete;
  entry& operator=(const entry&) = delete;

private:
  session& s_;
  std::lock_guard<std::mutex> lock_;
};

const char* to_string(close_cause c) {
  switch (c) {
    case close_cause::client: return "client";
    case close_cause::ping_timeout: return "ping_timeout";
    case close_cause::protocol_error: return "protocol_error";
    case close_cause::slow_consumer: return "slow_consumer";
    case close_cause::server: return "server";
    case close_cause::transport_closed: return "transport_closed";
    case close_cause::connect_timeout: return "connect_timeout";
  }
  return "server";
}

session::session(std::string sid, const limits& lim, clock::time_point now,
                 unregister_fn unregister)
  : sid_(std::move(sid)), lim_(lim), opened_at_(now), unregister_(std::move(unregister)) {
  next_ping_ = now + lim_.ping_interval;
}

void session::request_tick() {
  if (ticker_)
    ticker_->tick_at(next_deadline());
}

void session::expire_locked(clock::time_point now, after_unlock& a) {
  if (phase_ == phase::open && awaiting_pong_ && now >= pong_deadline_)
    close_now_locked(close_cause::ping_timeout, "ping timeout", '1', a);
}

session::~session() = default;

void session::run(after_unlock& a) {
  if (a.wake)
    a.wake();
  if (!a.unregister)
    return;
  close_cause cause;
  std::string reason;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    cause = cause_;
    reason = close_reason_;
  }
  if (cause == close_cause::protocol_error)
    CHAT_LOG_LIMITED(spdlog::level::info, "engine.io {}: closed: {}", sid_, reason);
  if (unregister_)
    unregister_(sid_, cause);
}

void session::notify_closed() {
  if (close_notified_)
    return;
  std::string reason;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (phase_ != phase::closed)
      return;
    reason = close_reason_;
  }
  close_notified_ = true;
  if (handler_)
    handler_->on_close(*this, reason);
}

std::string session::open_packet(bool with_upgrades) const {
  return "{\"sid\":\"" + sid_ + "\",\"upgrades\":" + (with_upgrades ? "[\"websocket\"]" : "[]")
         + ",\"pingInterval\":" + std::to_string(lim_.ping_interval.count())
         + ",\"pingTimeout\":" + std::to_string(lim_.ping_timeout.count())
         + ",\"maxPayload\":" + std::to_string(lim_.max_payload) + "}";
}

http_answer session::open_polling(clock::time_point) {
  entry e(*this);
  std::lock_guard<std::mutex> guard(mtx_);
  transport_ = transport::polling;
  return payload_answer("0" + open_packet(lim_.allow_websocket));
}

void session::open_websocket(std::shared_ptr<ws_link> link, clock::time_point) {
  entry e(*this);
  std::lock_guard<std::mutex> guard(mtx_);
  transport_ = transport::websocket;
  ws_ = std::move(link);
  ws_->push(make_frame(packet_type::open, open_packet(false)));
  if (phase_ == phase::open)
    direct_.store(ws_.get(), std::memory_order_release);
}

void session::release_poll_locked(after_unlock& a) {
  if (poll_pending_ && !poll_released_) {
    poll_released_ = true;
    a.wake = std::move(wake_);
    wake_ = nullptr;
  }
}

bool session::send_locked(frame_ptr frame, after_unlock& a) {
  if (transport_ == transport::websocket)
    return ws_->push(std::move(frame)); // the link bounds its own queue
  if (queue_bytes_ + frame->size() > lim_.queue_bytes) {
    close_now_locked(close_cause::slow_consumer, "slow consumer", '1', a);
    return false;
  }
  queue_bytes_ += frame->size();
  queue_.push_back(std::move(frame));
  release_poll_locked(a);
  return true;
}

void session::close_now_locked(close_cause cause, const std::string& reason, char final_packet,
                               after_unlock& a) {
  if (phase_ == phase::closed)
    return;
  if (phase_ == phase::open) { // a closing session keeps the cause of its close
    cause_ = cause;
    close_reason_ = reason;
  }
  phase_ = phase::closed;
  direct_.store(nullptr, std::memory_order_release);
  final_packet_ = final_packet;
  queue_.clear();
  queue_bytes_ = 0;
  if (ws_)
    ws_->close(1000, reason);
  if (probe_)
    probe_->close(1000, reason);
  probe_.reset();
  release_poll_locked(a);
  a.unregister = true;
}

void session::close_now(close_cause cause, const std::string& reason, char final_packet) {
  after_unlock a;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    close_now_locked(cause, reason, final_packet, a);
  }
  run(a);
}

http_answer session::drain_locked(after_unlock& a) {
  std::string body;
  while (!queue_.empty()) {
    const auto& f = *queue_.front();
    size_t add = polling_record_size(f) + (body.empty() ? 0 : 1);
    if (!body.empty() && body.size() + add > lim_.max_payload)
      break;
    auto v = view_frame(f);
    if (!v.binary && v.payload.find(record_separator) != std::string_view::npos) {
      // Cannot be framed in a polling payload; our encoders escape it in JSON.
      CHAT_LOG_LIMITED(spdlog::level::err,
                       "engine.io {}: dropped a text packet holding a record separator", sid_);
    } else {
      append_polling_record(body, f);
    }
    queue_bytes_ -= f.size();
    queue_.pop_front();
  }
  if (phase_ == phase::closing && queue_.empty()) {
    if (!body.empty())
      body.push_back(record_separator);
    body.push_back('1');
    phase_ = phase::closed;
    a.unregister = true;
  }
  if (body.empty())
    body = "6"; // released without data: an upgrade or a spurious wake-up
  return payload_answer(std::move(body));
}

std::optional<http_answer> session::get(clock::time_point now, std::function<void()> wake) {
  entry e(*this);
  after_unlock a;
  std::optional<http_answer> out;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    expire_locked(now, a);
    if (phase_ == phase::closed) {
      out = error_answer(http_error::session_unknown);
    } else if (transport_ != transport::polling) {
      out = error_answer(http_error::bad_request);
    } else if (poll_pending_) {
      // A second concurrent GET: the first gets a close packet, this one an error.
      close_now_locked(close_cause::protocol_error, "concurrent polling requests", '1', a);
      out = error_answer(http_error::bad_request);
    } else if (!queue_.empty() || phase_ == phase::closing || probe_answered_) {
      out = drain_locked(a);
    } else {
      poll_pending_ = true;
      poll_released_ = false;
      wake_ = std::move(wake);
    }
  }
  run(a);
  return out;
}

http_answer session::take_poll(clock::time_point) {
  entry e(*this);
  after_unlock a;
  http_answer out;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (!poll_pending_) {
      out = error_answer(http_error::bad_request);
    } else {
      poll_pending_ = false;
      poll_released_ = false;
      wake_ = nullptr;
      out = phase_ == phase::closed ? payload_answer(std::string(1, final_packet_))
                                    : drain_locked(a);
    }
  }
  run(a);
  return out;
}

void session::poll_aborted(clock::time_point) {
  entry e(*this);
  after_unlock a;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (!poll_pending_)
      return;
    poll_pending_ = false;
    poll_released_ = false;
    wake_ = nullptr;
    close_now_locked(close_cause::transport_closed, "polling request aborted", '1', a);
  }
  run(a);
}

bool session::handle_packet(packet_type type, bool binary, std::string_view data,
                            clock::time_point now) {
  switch (type) {
    case packet_type::message: {
      bool open;
      {
        std::lock_guard<std::mutex> guard(mtx_);
        open = phase_ == phase::open;
      }
      if (open && handler_)
        handler_->on_message(*this, data, binary);
      return true;
    }
    case packet_type::pong: {
      std::lock_guard<std::mutex> guard(mtx_);
      if (awaiting_pong_) {
        awaiting_pong_ = false;
        next_ping_ = now + lim_.ping_interval;
      }
      return true;
    }
    case packet_type::close:
      close_now(close_cause::client, "client closed", '6'); // a pending GET ends with a noop
      return true;
    case packet_type::noop:
    case packet_type::upgrade:
      return true; // an upgrade counts only on the probe WebSocket
    case packet_type::open:
    case packet_type::ping: // v4 heartbeats go from the server to the client
      close_now(close_cause::protocol_error, "unexpected packet from the client");
      return false;
  }
  return false;
}

http_answer session::post(std::string_view body, std::string_view content_type,
                          clock::time_point now) {
  entry e(*this);
  {
    after_unlock a;
    bool closed;
    {
      std::lock_guard<std::mutex> guard(mtx_);
      expire_locked(now, a);
      closed = phase_ == phase::closed;
    }
    run(a);
    if (closed)
      return error_answer(http_error::session_unknown);
  }
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (transport_ != transport::polling)
      return error_answer(http_error::bad_request);
    if (phase_ == phase::closing)
      return ok_answer(); // the server is closing this session: input is dropped
  }
  const char* bad = nullptr;
  std::vector<packet> packets;
  payload_error perr = payload_error::none;
  if (body.size() > lim_.max_payload) {
    close_now(close_cause::protocol_error, "request body larger than maxPayload");
    return error_answer(http_error::bad_request, 413);
  }
  if (content_type.substr(0, 24) == "application/octet-stream")
    bad = "binary request body (Engine.IO v3)";
  else if (!utf8_valid(body))
    bad = "request body is not valid UTF-8";
  else if ((perr = decode_payload(body, lim_.max_packets, packets)) != payload_error::none)
    bad = to_string(perr);
  if (bad) {
    close_now(close_cause::protocol_error, std::string("bad payload: ") + bad);
    return error_answer(http_error::bad_request);
  }
  bool ok = true;
  for (auto& p : packets) {
    ok = handle_packet(p.type, p.binary, p.data, now);
    if (!ok || is_closed())
      break;
  }
  if (handler_)
    handler_->on_batch_end(*this);
  return ok ? ok_answer() : error_answer(http_error::bad_request);
}

bool session::begin_upgrade(std::shared_ptr<ws_link> link, clock::time_point now) {
  entry e(*this);
  std::lock_guard<std::mutex> guard(mtx_);
  if (phase_ != phase::open || transport_ != transport::polling || probe_
      || !lim_.allow_websocket)
    return false;
  probe_ = std::move(link);
  probe_answered_ = false;
  upgrade_deadline_ = now + lim_.upgrade_timeout;
  return true;
}

void session::abort_upgrade_locked(uint16_t code, const std::string& why) {
  if (!probe_)
    return;
  probe_->close(code, why);
  probe_.reset();
  probe_answered_ = false;
}

void session::probe_message(bool binary, std::string_view payload) {
  after_unlock a;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (!binary && payload == "2probe" && !probe_answered_) {
      probe_->push(make_frame(packet_type::pong, "probe"));
      probe_answered_ = true;
      release_poll_locked(a); // the pending GET ends (with a noop when nothing is queued)
    } else if (!binary && payload == "5" && probe_answered_) {
      ws_ = std::move(probe_);
      probe_answered_ = false;
      transport_ = transport::websocket;
      for (auto& f : queue_)
        ws_->push(std::move(f));
      queue_.clear();
      queue_bytes_ = 0;
      direct_.store(ws_.get(), std::memory_order_release); // after what was queued
      release_poll_locked(a);
    } else {
      abort_upgrade_locked(1002, "unexpected packet during the upgrade");
    }
  }
  run(a);
}

void session::ws_message(const ws_link& link, bool binary, std::string_view payload,
                         clock::time_point now) {
  entry e(*this);
  bool is_probe = false, is_main = false;
  after_unlock a;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    expire_locked(now, a);
    is_probe = probe_ && probe_.get() == &link;
    is_main = ws_ && ws_.get() == &link && phase_ == phase::open;
  }
  run(a);
  if (is_probe) {
    probe_message(binary, payload);
    return;
  }
  if (!is_main)
    return; // a link this session no longer uses
  if (payload.size() > lim_.max_payload) {
    close_now(close_cause::protocol_error, "message larger than maxPayload");
    return;
  }
  if (binary) {
    handle_packet(packet_type::message, true, payload, now);
  } else if (!payload.empty() && payload[0] >= '0' && payload[0] <= '6' && utf8_valid(payload)) {
    handle_packet(packet_type(payload[0] - '0'), false, payload.substr(1), now);
  } else {
    close_now(close_cause::protocol_error, "bad packet");
    return;
  }
  if (handler_)
    handler_->on_batch_end(*this);
}

void session::ws_closed(const ws_link& link, clock::time_point) {
  entry e(*this);
  after_unlock a;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (probe_ && probe_.get() == &link) {
      probe_.reset(); // the upgrade failed; polling goes on
      probe_answered_ = false;
    } else if (ws_ && ws_.get() == &link) {
      if (phase_ != phase::closed)
        close_now_locked(close_cause::transport_closed, "transport closed", '1', a);
    }
  }
  run(a);
}

void session::tick(clock::time_point now) {
  entry e(*this);
  after_unlock a;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (phase_ == phase::closing) {
      if (!closing_deadline_set_) {
        closing_deadline_ = now + lim_.ping_timeout;
        closing_deadline_set_ = true;
      } else if (now >= closing_deadline_) {
        close_now_locked(cause_, close_reason_, '1', a);
      }
    } else if (phase_ == phase::open) {
      if (probe_ && now >= upgrade_deadline_)
        abort_upgrade_locked(1000, "upgrade timeout");
      if (awaiting_pong_) {
        if (now >= pong_deadline_)
          close_now_locked(close_cause::ping_timeout, "ping timeout", '1', a);
      } else if (now >= next_ping_) {
        // The pong is due ping_timeout after the ping was due (a late timer takes nothing
        // from a punctual client's deadline), but never less than half of it from now.
        awaiting_pong_ = true;
        pong_deadline_ = std::max(next_ping_ + lim_.ping_timeout, now + lim_.ping_timeout / 2);
        send_locked(make_frame(packet_type::ping), a);
      }
    }
  }
  run(a);
  if (handler_ && !is_closed() && now >= handler_->deadline())
    handler_->on_deadline(*this, now);
}

clock::time_point session::next_deadline() const {
  std::lock_guard<std::mutex> guard(mtx_);
  switch (phase_) {
    case phase::closed:
      // A close from the outbound side is told to the handler by the next entry point.
      return close_notified_ ? clock::time_point::max() : clock::time_point::min();
    case phase::closing:
      // The deadline counts from the first tick after the close (close() has no clock).
      return closing_deadline_set_ ? closing_deadline_ : clock::time_point::min();
    case phase::open:
      break;
  }
  auto d = awaiting_pong_ ? pong_deadline_ : next_ping_;
  if (probe_)
    d = std::min(d, upgrade_deadline_);
  if (handler_)
    d = std::min(d, handler_->deadline());
  return d;
}

void session::shutdown(const std::string& reason) {
  entry e(*this);
  close_now(close_cause::server, reason);
}

bool session::push(frame_ptr frame) {
  // On a WebSocket the link bounds and orders its own queue: the state lock is not needed
  // (a push racing with a close finds the link closed, as it would find the session).
  if (auto* ws = direct_.load(std::memory_order_acquire))
    return ws->push(std::move(frame));
  after_unlock a;
  bool ok;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (phase_ != phase::open)
      return false;
    ok = send_locked(std::move(frame), a);
  }
  run(a);
  return ok;
}

void session::close(uint16_t code, const std::string& reason) {
  close(code, reason, close_cause::server);
}

void session::close(uint16_t code, const std::string& reason, close_cause cause) {
  after_unlock a;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (phase_ != phase::open)
      return;
    close_reason_ = reason.empty() ? "closed by the server" : reason;
    cause_ = cause;
    if (transport_ == transport::websocket) {
      direct_.store(nullptr, std::memory_order_release);
      ws_->close(code, reason);
      phase_ = phase::closed;
      a.unregister = true;
    } else {
      // The queue and a close packet go to the next GET, which has ping_timeout to come.
      phase_ = phase::closing;
      abort_upgrade_locked(1000, reason);
      release_poll_locked(a);
    }
  }
  run(a);
  request_tick(); // the handler learns of the close, the closing grace starts
}

uint64_t session::queued_bytes() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return transport_ == transport::websocket && ws_ ? ws_->queued_bytes() : queue_bytes_;
}

transport session::current_transport() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return transport_;
}

bool session::is_closed() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return phase_ == phase::closed;
}

bool session::upgrading() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return probe_ != nullptr;
}

close_cause session::cause() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return cause_;
}

} // namespace chat::net::eio
