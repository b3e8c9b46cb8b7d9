// One Engine.IO v4 session as a state machine without sockets: handshake, server-initiated
// heartbeat, the polling transport (one pending GET, POST bodies, the outbound queue a GET
// drains), the upgrade to WebSocket (2probe/3probe, 5 upgrade, 6 noop releasing a pending
// GET), and closing. Time is passed in (`now`), so every timer is unit-testable.
//
// Threads. The listener glue calls the entry points (open_*, get, take_poll, poll_aborted,
// post, begin_upgrade, ws_message, ws_closed, tick, shutdown) from its network threads,
// possibly several at once: the session serializes them, and the handler is only ever
// called from inside an entry point, one call at a time (so the handler must not call an
// entry point itself). The outbound side (push, close, queued_bytes) is thread-safe and
// never calls the handler: it is what the Socket.IO layer and the connection actor push
// into, from any thread. A close from the outbound side reaches the handler at the next
// entry point; next_deadline() then asks for a tick at once.
//
// Timers. A session asks its ticker (set by the glue at creation) to call tick() at its
// next deadline, after every entry point and after a close from the outbound side. The
// heartbeat is also checked when a request arrives: a client that comes back after its
// pong deadline finds the session closed even if the timer has not fired yet.
#pragma once

#include "net/engineio_packet.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace chat::net::eio {

using clock = std::chrono::steady_clock;

// Every bound of a session; the open packet announces ping_* and max_payload.
struct limits {
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  std::chrono::milliseconds upgrade_timeout{10000};
  uint64_t max_payload = 1000000; // bytes of a POST body or a WebSocket message
  size_t max_packets = 256;       // packets in one POST body
  uint64_t queue_bytes = 4 << 20; // polling: server packets waiting for a GET
  size_t max_sessions = 10000;    // per server
  bool allow_polling = true;
  bool allow_websocket = true;
};

enum class transport { polling, websocket };

// Why a session ended (the server counts them).
// connect_timeout: the layer above closed a connection that never completed its own
// handshake (Socket.IO: no namespace connected in time).
enum class close_cause { client, ping_timeout, protocol_error, slow_consumer, server,
                         transport_closed, connect_timeout };
constexpr size_t close_causes = 7;
const char* to_string(close_cause c);

// A WebSocket connection carrying the session (or probing for the upgrade) is, for the
// session, the glue's WebSocket session seen as an `outbound` (actors/wire.hpp): push
// queues a whole server frame (false when closed or past its bound: it then closes itself
// and the glue reports ws_closed), close ends it after what is queued. Neither may call
// back into the session before returning.
using ws_link = outbound;

class session;

// Calls a session's tick() at a time it asks for (the glue: a timer on a network thread).
class ticker {
public:
  virtual ~ticker() = default;
  // Any thread, no session lock held: tick() is wanted at `at` or later (min: now, max:
  // never). Only a deadline earlier than the one already waited for needs new arming.
  virtual void tick_at(clock::time_point at) = 0;
};
using ticker_factory = std::function<std::shared_ptr<ticker>(const std::shared_ptr<session>&)>;

// The layer above (Socket.IO, or an echo for conformance tests).
class handler {
public:
  virtual ~handler() = default;
  // A `message` packet: text (valid UTF-8) or binary.
  virtual void on_message(session& s, std::string_view data, bool binary) = 0;
  // After the messages of one POST body or WebSocket message.
  virtual void on_batch_end(session&) {}
  // Once, when the session has closed.
  virtual void on_close(session& s, const std::string& reason) = 0;
  // A time at which the handler wants on_deadline (max: none), e.g. to close a connection
  // that never completed its own handshake. Any thread; must not call the session.
  virtual clock::time_point deadline() const { return clock::time_point::max(); }
  // From tick() at or after deadline(), while the session is open.
  virtual void on_deadline(session&, clock::time_point) {}
};

class session final : public outbound, public std::enable_shared_from_this<session> {
public:
  // `unregister` is called once, from any thread, when the session closes (the server
  // forgets its sid then). Callers of the entry points hold a shared_ptr to the session
  // for the call: unregistering may drop the server's.
  using unregister_fn = std::function<void(const std::string& sid, close_cause cause)>;
  session(std::string sid, const limits& lim, clock::time_point now, unregister_fn unregister);
  ~session() override;

  // Before the session is shared (the server sets both at creation).
  void set_handler(std::unique_ptr<handler> h) { handler_ = std::move(h); }
  void set_ticker(std::shared_ptr<ticker> t) { ticker_ = std::move(t); }
  clock::time_point opened_at() const { return opened_at_; }
  const std::string& sid() const { return sid_; }
  // The client's address from the request that opened the session (for admission and the
  // access log; set by the server at creation, before the session is shared).
  void set_client_address(std::string a) { client_address_ = std::move(a); }
  const std::string& client_address() const { return client_address_; }
  const limits& bounds() const { return lim_; }

  // Entry points (listener glue).
  // Handshake on polling: the answer to the first GET (the open packet).
  http_answer open_polling(clock::time_point now);
  // Handshake on a WebSocket: the open packet goes out on `link`.
  void open_websocket(std::shared_ptr<ws_link> link, clock::time_point now);
  // A polling GET: an answer now, or none when the GET must wait. `wake` is then called
  // once, from any thread and without locks held, when the answer is ready; the glue then
  // calls take_poll on its own thread. `wake` must only post.
  std::optional<http_answer> get(clock::time_point now, std::function<void()> wake);
  http_answer take_poll(clock::time_point now);
  // The connection of a pending GET closed before its answer: the session ends.
  void poll_aborted(clock::time_point now);
  http_answer post(std::string_view body, std::string_view content_type, clock::time_point now);
  // A WebSocket with this sid: the upgrade's probe. False: refused, close it.
  bool begin_upgrade(std::shared_ptr<ws_link> link, clock::time_point now);
  // A message or the end of a WebSocket (the session's or the probe).
  void ws_message(const ws_link& link, bool binary, std::string_view payload,
                  clock::time_point now);
  void ws_closed(const ws_link& link, clock::time_point now);
  // Heartbeat, upgrade and closing timers. Call at next_deadline() or later.
  void tick(clock::time_point now);
  clock::time_point next_deadline() const;
  // Ends the session now (node shutdown).
  void shutdown(const std::string& reason);

  // Outbound (any thread). `push` takes whole server frames; server messages are
  // packet_type::message frames (make_frame or a wire_encoder's frames).
  bool push(frame_ptr frame) override;
  // Closes after what is queued: a WebSocket gets a close frame with `code`, a polling
  // client gets the queue and a close packet at its next GET.
  void close(uint16_t code, const std::string& reason) override;
  // The same, naming the cause (the layer above closes for protocol errors).
  void close(uint16_t code, const std::string& reason, close_cause cause);
  uint64_t queued_bytes() const override;

  transport current_transport() const;
  bool is_closed() const;
  // Why the session closed (meaningful once closed, e.g. in handler::on_close).
  close_cause cause() const;
  bool upgrading() const; // a probe WebSocket is attached

private:
  enum class phase { open, closing, closed };
  // What must happen once the state lock is released.
  struct after_unlock {
    std::function<void()> wake;
    bool unregister = false;
  };
  class entry; // serializes entry points; tells the handler about a close on the way out

  void run(after_unlock& a);
  void release_poll_locked(after_unlock& a);
  bool send_locked(frame_ptr frame, after_unlock& a);
  void close_now_locked(close_cause cause, const std::string& reason, char final_packet,
                        after_unlock& a);
  void close_now(close_cause cause, const std::string& reason, char final_packet = '1');
  http_answer drain_locked(after_unlock& a);
  std::string open_packet(bool with_upgrades) const;
  // A packet on the session's transport (entry held, state lock not): false when the
  // client broke the protocol (the session is then closed).
  bool handle_packet(packet_type type, bool binary, std::string_view data, clock::time_point now);
  void probe_message(bool binary, std::string_view payload);
  void abort_upgrade_locked(uint16_t code, const std::string& why);
  // Closes a session whose pong deadline has passed (a request came before the timer).
  void expire_locked(clock::time_point now, after_unlock& a);
  void notify_closed();
  void request_tick();

  const std::string sid_;
  const limits lim_;
  const clock::time_point opened_at_;
  unregister_fn unregister_;
  std::unique_ptr<handler> handler_;
  std::shared_ptr<ticker> ticker_;
  std::mutex entry_mtx_;      // one entry point at a time
  std::atomic<bool> close_notified_{false}; // written with entry_mtx_ held

  mutable std::mutex mtx_;    // everything below
  phase phase_ = phase::open;
  transport transport_ = transport::polling;
  std::string close_reason_;
  close_cause cause_ = close_cause::server;
  char final_packet_ = '1';   // answer of a GET released by close_now
  clock::time_point closing_deadline_;
  bool closing_deadline_set_ = false;
  std::deque<frame_ptr> queue_; // polling
  uint64_t queue_bytes_ = 0;
  std::shared_ptr<ws_link> ws_;    // the WebSocket transport
  // ws_ once the session is open on it, for push() without the state lock (a delivery to
  // a WebSocket client takes only the link's own lock); null before and after.
  std::atomic<ws_link*> direct_{nullptr};
  std::shared_ptr<ws_link> probe_; // a WebSocket being upgraded to
  bool probe_answered_ = false;    // 3probe sent: GETs are answered at once
  clock::time_point upgrade_deadline_;
  bool poll_pending_ = false;
  bool poll_released_ = false;
  std::function<void()> wake_;
  std::string client_address_;
  bool awaiting_pong_ = false;
  clock::time_point next_ping_, pong_deadline_;
};

} // namespace chat::net::eio
