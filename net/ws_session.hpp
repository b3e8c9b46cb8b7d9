// One WebSocket connection after the upgrade: reads and parses client frames into
// commands for its connection actor (or hands whole messages to a message sink: the
// Engine.IO transport of Socket.IO), and writes what is queued for it, many frames per
// write. It owns its socket; actors only push into its bounded outbound queue.
// On a plain connection reads are non-blocking reads into the worker's shared buffer and
// writes one sendmsg of the queued frames; on a TLS connection both go through the TLS
// stream asynchronously (the session's own read buffer; one async_write of the frames).
#pragma once

#include "actors/interfaces.hpp"
#include "net/io_pool.hpp"
#include "net/tls_context.hpp"
#include "net/ws_frame.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>

namespace chat::net {

struct session_limits {
  uint64_t max_frame_bytes = 65536;
  uint64_t queue_bytes = 4 << 20;
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds frame_timeout{10000}; // a frame or fragmented message must complete
};

class ws_session;

// Where a session's complete messages go when they are not native protocol commands.
// Called on the session's network thread; the payload is valid during the call only.
class ws_message_sink {
public:
  virtual ~ws_message_sink() = default;
  virtual void on_ws_message(ws_session& s, bool binary, std::string_view payload) = 0;
  // Once, when the session has finished (the sink is then released).
  virtual void on_ws_closed(ws_session& s, const std::string& reason) = 0;
};

class ws_session final : public outbound,
                         public std::enable_shared_from_this<ws_session>,
                         private ws_parser::handler {
public:
  using closed_fn = std::function<void(ws_session&, const std::string& reason)>;

  // `tls` set: the connection speaks TLS through it and `sock` is not used.
  ws_session(asio::ip::tcp::socket sock, std::unique_ptr<tls_stream> tls, io_worker& io,
             session_limits limits, uint64_t id, node_counters& counters, closed_fn on_closed);
  ~ws_session() override;

  // Io thread: starts reading; `leftover` holds bytes read past the HTTP upgrade.
  void start(connection_actor conn, std::string leftover);
  // The same, with every message going to `sink` instead of a connection actor.
  void start(std::shared_ptr<ws_message_sink> sink, std::string leftover);

  bool push(frame_ptr frame) override;
  void close(uint16_t code, const std::string& reason) override;
  uint64_t queued_bytes() const override;
  void when_drained(uint64_t low, std::function<void()> ready) override;

  uint64_t id() const { return id_; }
  const std::string& remote() const { return remote_; }
  const std::string& user() const { return user_; }
  void set_user(std::string u) { user_ = std::move(u); }
  std::chrono::steady_clock::time_point started() const { return started_; }
  const connection_actor& actor() const { return conn_; }
  uint64_t frames_in() const { return frames_in_.load(std::memory_order_relaxed); }
  uint64_t frames_out() const { return frames_out_.load(std::memory_order_relaxed); }

  // Io thread (or any thread once the network threads have stopped).
  void force_close(const std::string& reason) { finish(reason); }
  io_worker& worker() const { return io_; }
  // Io thread.
  void flush();
  void tick(std::chrono::steady_clock::time_point now);

private:
  void on_message(ws_opcode op, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;
  void on_protocol_error(uint16_t code, const char* reason) override;

  // Parses what one read brought and hands its commands to the connection actor in one
  // message. Once closing, bytes are dropped unparsed.
  void parse(char* data, size_t size);
  // Closes for a wire violation: counted, logged (rate-limited), close frame with `code`.
  void violation(ws_violation kind, uint16_t code, const char* reason);

  // Writes as much of writing_ as the socket takes now; SIZE_MAX when the session failed.
  size_t write_now();
  // Hands what write_now could not write to an asynchronous write.
  void write_rest(size_t already);
  // Returns true when the queue is empty; with `settle` it then also clears the flush mark
  // (under the same lock, so flush() need not take it again to find the queue empty).
  bool written_done(size_t written, bool settle = false);
  void wait_readable();
  void on_readable();
  void read_tls();
  // What one read brought: the idle clock restarts, then the bytes are parsed.
  void on_bytes(char* data, size_t size);
  asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer().socket() : sock_; }
  void push_control(std::string frame);
  // Appends to the queue (mtx_ held); true when the session must be scheduled to flush.
  bool enqueue_locked(frame_ptr frame);
  std::string reason_or(const std::string& fallback) const;
  void abort(const std::string& reason);
  void finish(const std::string& reason);

  asio::ip::tcp::socket sock_;
  std::unique_ptr<tls_stream> tls_;
  std::vector<char> tls_in_; // TLS reads complete later: not the worker's shared buffer
  io_worker& io_;
  session_limits limits_;
  uint64_t id_;
  node_counters& counters_;
  std::atomic<uint64_t> frames_in_{0}, frames_out_{0};
  int64_t read_ns_ = 0; // steady clock of the current read
  std::string remote_;
  std::string user_;
  closed_fn on_closed_;
  connection_actor conn_;
  std::shared_ptr<ws_message_sink> sink_; // set: messages go here, not to conn_
  ws_parser parser_;
  std::vector<command> batch_;    // commands parsed from one read
  uint32_t controls_ = 0;         // control frames in that read (they count against the rate)
  std::string pong_payload_;      // one pong per read answers its pings (RFC 6455 5.5.3)
  bool pong_due_ = false;
  std::chrono::steady_clock::time_point started_, last_read_, close_started_;
  bool ping_sent_ = false;
  bool finished_ = false;

  // Outbound queue, shared with actor threads.
  mutable std::mutex mtx_;
  std::vector<frame_ptr> queue_;
  uint64_t bytes_ = 0;
  bool flush_scheduled_ = false;
  bool closed_ = false;      // no more pushes (close frame queued or aborted)
  std::atomic<bool> closing_{false}; // closed_, readable without the lock
  // when_drained callbacks: (threshold, callback), called once bytes_ <= threshold.
  std::vector<std::pair<uint64_t, std::function<void()>>> drain_waiters_;
  std::string close_reason_;
  // Io thread only.
  std::vector<frame_ptr> writing_;
  std::vector<asio::const_buffer> buffers_;
  bool write_in_flight_ = false;
  bool send_shut_ = false;
};

} // namespace chat::net
