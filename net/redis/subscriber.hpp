// The pub/sub side of the Redis client: channels subscribed and unsubscribed one by one at
// run time, one handler per channel, on dedicated connections (a connection in subscribe
// mode accepts nothing else) — one to the server, or on a cluster one per master, each
// channel at the master that owns its slot (SSUBSCRIBE; SUBSCRIBE on a single server).
//
// Subscriptions survive their connection: after a reconnect, a failover or a slot move
// (the server ends sharded subscriptions with a `sunsubscribe` push), every wanted channel
// is subscribed again, and its `on_active(true)` tells the caller that messages may have
// been missed in between (repair from the room's stream). Callers reference-count their
// own uses: subscribe when the first local member joins, unsubscribe when the last leaves.
#pragma once

#include "net/redis/inbox.hpp"
#include "net/redis/link.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chat::redis {

class router;

struct channel_handlers {
  // A message published on the channel (io thread; the view dies with the call).
  std::function<void(std::string_view payload)> on_message;
  // The subscription is in place: messages published from now on arrive. `resubscribed`:
  // it had been lost (connection, failover, slot move), messages may have been missed.
  std::function<void(bool resubscribed)> on_active;
};

class subscriber {
public:
  subscriber(boost::asio::io_context& io, const settings& s, stats& st, router& r);
  ~subscriber();

  // --- any thread ---
  // Replaces the handlers when the channel is already subscribed.
  void subscribe(std::string channel, channel_handlers h);
  void unsubscribe(std::string channel);

  // --- io thread ---
  void start();
  void stop();
  void tick(int64_t now);
  // The router's slot map changed: move channels whose master changed.
  void on_map_changed();
  // Every subscription connection is up and every wanted channel has a connection.
  bool up() const;
  void on_change(std::function<void()> fn) { changed_ = std::move(fn); }
  size_t channels() const { return channels_.size(); }

private:
  class conn;
  enum class sub_state { waiting, pending, active };
  struct channel {
    channel_handlers h;
    conn* at = nullptr; // the connection it is (to be) subscribed on
    sub_state st = sub_state::waiting;
    bool ever_active = false;
    uint64_t token = 0; // of the latest SUBSCRIBE sent for it (older confirmations are stale)
  };
  struct op {
    bool subscribe;
    std::string name;
    channel_handlers h;
  };

  void drain_inbox();
  void add(std::string&& name, channel_handlers&& h);
  void remove(const std::string& name);
  void place(const std::string& name, channel& c);
  conn* conn_for(const std::string& name);
  conn* conn_to(const endpoint& ep);
  void activated(conn& at, const std::string& name, uint64_t token);
  void refused(conn& at, const std::string& name, const reply& err);
  void message(conn& at, const std::string& name, std::string_view payload);
  void ended_by_server(conn& at, const std::string& name);
  // No connection for it until tick() (or a map change) places it again.
  void unplace(channel& c);
  void conn_up(conn& at);
  void conn_down(conn& at);
  void notify();

  boost::asio::io_context& io_;
  const settings& settings_;
  stats& stats_;
  router& router_;
  inbox<op> inbox_;
  std::vector<op> batch_;
  std::unordered_map<std::string, channel> channels_;
  std::map<std::string, std::unique_ptr<conn>> conns_; // by "host:port"
  std::vector<std::unique_ptr<conn>> retired_;
  uint64_t next_token_ = 0;
  bool unplaced_ = false;     // some channel has no connection (refused, moved)
  int64_t next_sweep_ns_ = 0; // closing unused cluster connections, once a second
  bool stopped_ = false;
  std::function<void()> changed_;
};

} // namespace chat::redis
