// One TCP connection to one Redis server, driven by Asio on the Redis io thread.
//
// It resolves and connects with a timeout (which also covers AUTH and SELECT), writes what
// its owner queued in one write per batch (what accumulates during a write goes out in the
// next one), parses replies with hiredis's reader and hands each one to its owner, and after
// any failure closes the socket and reconnects with bounded exponential backoff. The owner
// (a command pipeline or a subscriber connection) keeps track of what each reply answers.
//
// Why not hiredis's redisAsyncContext: in hiredis 0.14 it aborts the process (assert in
// redisProcessCallbacks) on any reply it did not expect, which is exactly what sharded
// pub/sub (SSUBSCRIBE confirmations, smessage, the server's sunsubscribe when a slot moves)
// produces; it also has no connect timeout and cannot drop a command that timed out.
#pragma once

#include "net/redis/backoff.hpp"
#include "net/redis/resp.hpp"
#include "net/redis/settings.hpp"
#include "net/redis/stats.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <memory>
#include <string>

namespace chat::redis {

class link : public std::enable_shared_from_this<link> {
public:
  class owner {
  public:
    // The connection is ready: AUTH and SELECT succeeded. Queue commands and flush().
    virtual void on_link_up() = 0;
    // An established connection was lost (never called after stop()). Every command
    // written on it is lost; the link reconnects by itself.
    virtual void on_link_down(const std::string& why) = 0;
    virtual void on_link_reply(reply&& r) = 0;

  protected:
    ~owner() = default;
  };

  link(boost::asio::io_context& io, endpoint where, const settings& s, stats& st, owner& o);
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  void start();
  // Closes for good; the owner hears nothing more.
  void stop();
  bool up() const { return state_ == state::up; }
  const endpoint& where() const { return where_; }
  std::string name() const;

  // Commands are appended here while up, then flush() starts a write if none is running.
  std::string& out() { return out_; }
  void flush();
  // Drops the connection now (on_link_down follows if it was up); reconnects after backoff.
  void reset(const std::string& why);
  // Steady-clock nanoseconds of the last bytes read (for keepalive decisions).
  int64_t last_read_ns() const { return last_read_ns_; }

private:
  enum class state { idle, connecting, handshake, up, waiting, stopped };

  void connect();
  void on_connected();
  void read_more();
  void on_read(size_t n);
  // The replies read so far, in order; false when the link failed or was reset meanwhile.
  bool handle_replies();
  void handle_handshake_reply(const reply& r);
  void become_up();
  void fail(const std::string& why);
  void close_socket();
  void write_some();

  endpoint where_;
  const settings& settings_;
  stats& stats_;
  owner& owner_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_; // connect timeout, then backoff
  backoff backoff_;
  reader reader_;
  state state_ = state::idle;
  uint64_t generation_ = 0; // bumped per connection attempt: stale completions are ignored
  int handshake_left_ = 0;
  std::string out_, writing_;
  bool write_running_ = false;
  int64_t last_read_ns_ = 0;
  std::array<char, 16384> read_buf_{};
};

int64_t now_ns();

// What a handshake reply (to AUTH or SELECT) says: "" when accepted (any reply but an
// error), else why the connection gives up (exposed for fuzzing).
std::string handshake_refusal(const reply& r);

} // namespace chat::redis
