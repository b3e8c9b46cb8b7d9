// The command side of the Redis client: takes commands from any thread, one wake-up of the
// io thread per batch, and writes each batch on the right connection — the one server, or
// on a cluster the master that owns the command's slot (one pipeline per master).
//
// - Bounds: unanswered commands and their bytes are capped (redis.queue-commands/-bytes);
//   past the cap submit() refuses at once.
// - A command whose server is unreachable waits, in order, up to redis.unavailable-timeout
//   and then fails as `unavailable`; commands in flight when a connection drops fail as
//   `lost` (they may have run).
// - Cluster: the slot map comes from CLUSTER SLOTS (at start, after MOVED, when a connection
//   comes up, every 10 s); MOVED updates the map and re-sends, ASK sends ASKING + the command
//   to the named node once, TRYAGAIN/CLUSTERDOWN/LOADING retry until the deadline.
// - Scripts are loaded on every new connection before anything else is written on it;
//   an EVALSHA answered NOSCRIPT anyway is re-sent as EVAL.
#pragma once

#include "net/redis/inbox.hpp"
#include "net/redis/pipeline.hpp"
#include "net/redis/script.hpp"
#include "net/redis/slot_map.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace chat::redis {

class router final : public pipeline::events {
public:
  router(boost::asio::io_context& io, const settings& s, stats& st);
  ~router();

  // --- any thread ---
  // False when refused (bound reached, or stopped): the callback is then never called.
  bool submit(request&& r);

  // --- io thread ---
  void start();
  // Fails everything queued or in flight with failure::stopped and closes the connections.
  void stop();
  void tick(int64_t now);
  // Writes an internal command (no bounds) as soon as its target is up.
  void send_internal(request&& r);
  void add_script(const script* s);
  // All masters reachable (and, on a cluster, every slot owned).
  bool up() const;
  const slot_map& map() const { return map_; }
  void request_refresh();
  // Called (io thread) when a connection goes up or down or the slot map changes.
  void on_change(std::function<void()> fn) { changed_ = std::move(fn); }

private:
  void on_pipeline_up(pipeline& p) override;
  void on_pipeline_down(pipeline& p) override;
  void on_pipeline_reply(pipeline& p, request&& r, reply&& value) override;
  void on_pipeline_failed(request&& r, failure why) override;

  // A command was queued: drain the inbox now, or (`urgent` false) when the batch delay
  // since the last drain has passed.
  void wake(bool urgent);
  void drain_inbox();
  void drain_pending(int64_t now);
  void route(request&& r, int64_t now);
  void retry_later(request&& r, int64_t now);
  bool redirect(pipeline& p, request& r, const reply& value);
  pipeline* pipe_for(const endpoint& ep);
  pipeline* any_up_pipe();
  void finish(request&& r, response&& resp);
  void maybe_refresh(int64_t now);
  void apply_map(slot_map&& m);
  void retire_unused();
  void flush_all();
  void notify();

  boost::asio::io_context& io_;
  const settings& settings_;
  stats& stats_;
  inbox<request> inbox_;
  boost::asio::steady_timer batch_timer_;
  std::atomic<uint64_t> queued_commands_{0}, queued_bytes_{0};
  int64_t unavailable_ns_;
  int64_t batch_delay_ns_;
  int64_t last_drain_ns_ = 0;
  bool batch_armed_ = false;
  uint64_t batch_generation_ = 0; // tells a stale timer handler from the armed one
  std::atomic<bool> urgent_posted_{false}; // a wake(true) for a non-empty inbox is posted

  std::map<std::string, std::unique_ptr<pipeline>> pipes_; // by "host:port"
  std::vector<std::unique_ptr<pipeline>> retired_;         // destroyed on the next tick
  std::deque<request> pending_;     // not sendable yet (target down, no owner, retry wait)
  bool pending_dirty_ = false;      // a target came up or the map changed
  int64_t next_pending_check_ = 0;  // earliest deadline / retry time among pending
  std::vector<request> batch_;
  std::vector<const script*> scripts_;
  slot_map map_;
  bool map_complete_ = false;
  bool refresh_wanted_ = false, refreshing_ = false;
  int64_t last_refresh_ns_ = 0;
  bool stopped_ = false;
  std::function<void()> changed_;
};

} // namespace chat::redis
