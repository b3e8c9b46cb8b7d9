// The node's Redis client: commands (pipelined, routed by slot on a cluster) and pub/sub,
// with one up/down state for readiness, on its own io thread or on a host's io_context (a
// network thread that also runs the actors: no thread hand-off between a room and Redis).
// Every method may be called from any thread; every callback runs on the client's io
// thread and must not block (callers post what they learn to their own thread or actor).
//
//   redis::client rc(settings);
//   rc.on_state([](bool up) { ... });           // before start()
//   rc.start();
//   rc.command("key", {"GET", "key"}, [](redis::response&& r) { ... });
//   rc.subscribe("chat:{lobby}", {on_message, on_active});
//   rc.stop();                                   // fails what is pending with `stopped`
#pragma once

#include "net/redis/request.hpp"
#include "net/redis/settings.hpp"
#include "net/redis/stats.hpp"
#include "net/redis/subscriber.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace chat::redis {

class router;
class script;

class client {
public:
  // With `host`, the client runs on that io_context, whose thread its owner keeps running
  // from start() until stop() has returned; else on a thread of its own.
  explicit client(settings s, std::shared_ptr<boost::asio::io_context> host = nullptr);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Called on every change of up() (io thread). Set before start().
  void on_state(std::function<void(bool up)> fn) { on_state_ = std::move(fn); }
  void start();
  // Stops the client (and its own io thread); pending commands fail with `stopped` (their
  // callbacks run, the state callback does not). Not from the io thread.
  void stop();

  // `route` is a key of the command (its slot picks the master on a cluster); "" means
  // any server. False when refused (queue bound, stopped): `done` is then never called.
  bool command(std::string_view route, std::initializer_list<std::string_view> args,
               callback done);
  bool command(std::string_view route, const std::vector<std::string_view>& args,
               callback done);
  // EVALSHA (EVAL after NOSCRIPT), routed by the first key. The script must have been
  // registered with add_script().
  bool eval(const script& s, const std::vector<std::string_view>& keys,
            const std::vector<std::string_view>& args, callback done,
            dispatch when = dispatch::now);
  // Loads `s` on every connection (now and after each reconnect) before other commands.
  void add_script(const script& s);

  void subscribe(std::string channel, channel_handlers h);
  void unsubscribe(std::string channel);

  // Every server reachable (cluster: every slot's master), subscriptions in place.
  bool up() const { return up_.load(std::memory_order_acquire); }
  const settings& config() const { return settings_; }
  const redis::stats& counters() const { return stats_; }
  // For timers that must run on the client's thread (presence heartbeats).
  boost::asio::io_context& io() { return io_; }

private:
  bool submit(std::string&& bytes, int32_t slot, const script* s, callback&& done,
              dispatch when = dispatch::now);
  void tick();
  void update_state();

  settings settings_;
  redis::stats stats_;
  std::shared_ptr<boost::asio::io_context> io_holder_; // before what is bound to it
  boost::asio::io_context& io_;
  bool hosted_;
  std::unique_ptr<router> router_;
  std::unique_ptr<subscriber> subscriber_;
  std::unique_ptr<boost::asio::steady_timer> ticker_;
  std::thread thread_;
  std::atomic<bool> up_{false};
  std::function<void(bool)> on_state_;
  bool started_ = false, stopped_ = false;
};

} // namespace chat::redis
