// The client's io thread, its periodic tick (timeouts, keepalive, retries, cluster map) and
// the combined up/down state.
#include "net/redis/client.hpp"

#include "config/log.hpp"
#include "net/redis/router.hpp"
#include "net/redis/script.hpp"
#include "net/redis/slot_map.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <future>

#include <pthread.h>

namespace chat::redis {

namespace asio = boost::asio;

namespace {

// Timeouts are checked at a tenth of the shortest one (between 10 and 100 ms).
millis tick_interval(const settings& s) {
  auto shortest = std::min(s.command_timeout, s.unavailable_timeout);
  if (shortest.count() == 0)
    shortest = s.command_timeout;
  return std::clamp(shortest / 10, millis(10), millis(100));
}

} // namespace

client::client(settings s, std::shared_ptr<asio::io_context> host)
  : settings_(std::move(s)),
    io_holder_(host ? host : std::make_shared<asio::io_context>()), io_(*io_holder_),
    hosted_(host != nullptr), router_(std::make_unique<router>(io_, settings_, stats_)),
    subscriber_(std::make_unique<subscriber>(io_, settings_, stats_, *router_)),
    ticker_(std::make_unique<asio::steady_timer>(io_)) {
  router_->on_change([this] {
    subscriber_->on_map_changed();
    update_state();
  });
  subscriber_->on_change([this] { update_state(); });
}

client::~client() { stop(); }

void client::start() {
  if (started_)
    return;
  started_ = true;
  asio::post(io_, [this] {
    router_->start();
    subscriber_->start();
    tick();
  });
  if (hosted_)
    return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "chat.redis"); // per-thread CPU in top, perf, benchmarks
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

void client::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  if (!started_) {
    router_->stop();
    subscriber_->stop();
    return;
  }
  std::promise<void> done;
  asio::post(io_, [this, &done] {
    ticker_->cancel();
    on_state_ = nullptr; // callers are tearing down: no state callback from here on
    router_->stop();
    subscriber_->stop();
    up_.store(false, std::memory_order_release);
    done.set_value();
  });
  done.get_future().wait();
  if (hosted_)
    return;
  io_.stop();
  thread_.join();
}

void client::tick() {
  auto now = now_ns();
  router_->tick(now);
  subscriber_->tick(now);
  update_state();
  ticker_->expires_after(tick_interval(settings_));
  ticker_->async_wait([this](boost::system::error_code ec) {
    if (!ec)
      tick();
  });
}

void client::update_state() {
  bool now_up = router_->up() && subscriber_->up();
  if (now_up == up_.load(std::memory_order_relaxed))
    return;
  up_.store(now_up, std::memory_order_release);
  spdlog::info("redis: {}", now_up ? "up" : "down");
  if (on_state_)
    on_state_(now_up);
}

bool client::submit(std::string&& bytes, int32_t slot, const script* s, callback&& done,
                    dispatch when) {
  request r;
  r.when = when;
  r.bytes = std::move(bytes);
  r.slot = settings_.cluster ? slot : -1;
  r.scr = s;
  r.done = std::move(done);
  return router_->submit(std::move(r));
}

bool client::command(std::string_view route, std::initializer_list<std::string_view> args,
                     callback done) {
  std::string bytes;
  append_command(bytes, args);
  return submit(std::move(bytes), route.empty() ? -1 : key_slot(route), nullptr,
                std::move(done));
}

bool client::command(std::string_view route, const std::vector<std::string_view>& args,
                     callback done) {
  std::string bytes;
  append_command(bytes, args);
  return submit(std::move(bytes), route.empty() ? -1 : key_slot(route), nullptr,
                std::move(done));
}

bool client::eval(const script& s, const std::vector<std::string_view>& keys,
                  const std::vector<std::string_view>& args, callback done, dispatch when) {
  std::string bytes;
  s.append_evalsha(bytes, keys, args);
  return submit(std::move(bytes), keys.empty() ? -1 : key_slot(keys.front()), &s,
                std::move(done), when);
}

void client::add_script(const script& s) {
  asio::post(io_, [this, &s] { router_->add_script(&s); });
}

void client::subscribe(std::string channel, channel_handlers h) {
  subscriber_->subscribe(std::move(channel), std::move(h));
}

void client::unsubscribe(std::string channel) { subscriber_->unsubscribe(std::move(channel)); }

} // namespace chat::redis
