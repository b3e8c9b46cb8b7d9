// Channel table and subscription connections. Each connection keeps the FIFO of what it
// sent ((S)SUBSCRIBE, (S)UNSUBSCRIBE, PING: one reply each) so that confirmations, errors
// and pongs are matched to their command, while messages and the server's own
// `sunsubscribe` pushes (slot moved) are recognised as pushes (read_subscription_reply
// tells which a reply is).
#include "net/redis/subscriber.hpp"

#include "config/log.hpp"
#include "net/redis/callbacks.hpp"
#include "net/redis/router.hpp"
#include "net/redis/subscription_reply.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <optional>

namespace chat::redis {

namespace {

constexpr int64_t ms = 1000000;

std::string key_of(const endpoint& ep) { return ep.host + ":" + std::to_string(ep.port); }

} // namespace

class subscriber::conn final : public link::owner {
public:
  using kind = sub_command;
  struct sent {
    kind k;
    std::string name;
    uint64_t token = 0;
    int64_t at_ns = 0;
  };

  conn(subscriber& owner, const endpoint& ep)
    : owner_(owner),
      link_(std::make_shared<link>(owner.io_, ep, owner.settings_, owner.stats_, *this)),
      timeout_ns_(int64_t(owner.settings_.command_timeout.count()) * ms),
      ping_after_ns_(std::clamp<int64_t>(timeout_ns_ / 2, 50 * ms, 1000 * ms)) {}
  ~conn() { link_->stop(); }

  void start() { link_->start(); }
  void stop() { link_->stop(); }
  bool up() const { return link_->up(); }
  const endpoint& where() const { return link_->where(); }

  void send(kind k, const std::string& name, uint64_t token = 0) {
    bool sharded = owner_.settings_.cluster;
    auto& out = link_->out();
    if (k == kind::sub)
      append_command(out, {sharded ? "SSUBSCRIBE" : "SUBSCRIBE", name});
    else if (k == kind::unsub)
      append_command(out, {sharded ? "SUNSUBSCRIBE" : "UNSUBSCRIBE", name});
    else
      append_command(out, {"PING"});
    fifo_.push_back(sent{k, name, token, now_ns()});
    link_->flush();
  }

  void tick(int64_t now) {
    if (!link_->up())
      return;
    if (!fifo_.empty()) {
      if (now - fifo_.front().at_ns > timeout_ns_) {
        owner_.stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
        link_->reset("no reply within redis.command-timeout");
      }
    } else if (now - link_->last_read_ns() > ping_after_ns_) {
      send(kind::ping, {});
    }
  }

private:
  void on_link_up() override { owner_.conn_up(*this); }
  void on_link_down(const std::string&) override {
    fifo_.clear();
    owner_.conn_down(*this);
  }

  void on_link_reply(reply&& r) override {
    std::optional<awaited> head;
    if (!fifo_.empty())
      head = awaited{fifo_.front().k, fifo_.front().name};
    auto got = read_subscription_reply(r, head ? &*head : nullptr);
    if (got.event == sub_event::out_of_step)
      return out_of_step();
    if (got.event == sub_event::message)
      return owner_.message(*this, *got.channel, got.payload);
    if (got.event == sub_event::ended)
      return owner_.ended_by_server(*this, *got.channel);
    auto done = std::move(fifo_.front()); // every other reply answers it
    fifo_.pop_front();
    if (got.event == sub_event::refused)
      owner_.refused(*this, done.name, r);
    else if (got.event == sub_event::failed)
      CHAT_LOG_LIMITED(spdlog::level::warn, "redis {}: {}", link_->name(), r.str);
    else if (got.event == sub_event::subscribed)
      owner_.activated(*this, done.name, done.token);
  }

  // A reply that answers nothing we sent: the connection's state is unknown; start over
  // (every channel on it is subscribed again).
  void out_of_step() {
    owner_.stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
    link_->reset("unexpected reply on a subscription connection");
  }

  subscriber& owner_;
  std::shared_ptr<link> link_;
  std::deque<sent> fifo_;
  int64_t timeout_ns_, ping_after_ns_;
};

subscriber::subscriber(boost::asio::io_context& io, const settings& s, stats& st, router& r)
  : io_(io), settings_(s), stats_(st), router_(r) {}

subscriber::~subscriber() { stop(); }

void subscriber::subscribe(std::string channel, channel_handlers h) {
  if (inbox_.push(op{true, std::move(channel), std::move(h)}) == inbox<op>::pushed::queued_wake)
    boost::asio::post(io_, [this] { drain_inbox(); });
}

void subscriber::unsubscribe(std::string channel) {
  if (inbox_.push(op{false, std::move(channel), {}}) == inbox<op>::pushed::queued_wake)
    boost::asio::post(io_, [this] { drain_inbox(); });
}

void subscriber::start() {
  if (!settings_.cluster && !settings_.seeds.empty())
    conn_to(settings_.seeds.front());
}

void subscriber::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  inbox_.close();
  for (auto& [name, c] : conns_)
    c->stop();
  conns_.clear();
  retired_.clear();
  channels_.clear();
}

void subscriber::drain_inbox() {
  if (stopped_)
    return;
  inbox_.take(batch_);
  for (auto& o : batch_) {
    if (o.subscribe)
      add(std::move(o.name), std::move(o.h));
    else
      remove(o.name);
  }
  batch_.clear();
  notify();
}

void subscriber::add(std::string&& name, channel_handlers&& h) {
  auto [it, fresh] = channels_.try_emplace(std::move(name));
  it->second.h = std::move(h);
  if (fresh)
    place(it->first, it->second);
}

void subscriber::remove(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end())
    return;
  auto& c = it->second;
  if (c.at && c.at->up() && c.st != sub_state::waiting)
    c.at->send(conn::kind::unsub, name);
  channels_.erase(it);
}

void subscriber::place(const std::string& name, channel& c) {
  c.at = conn_for(name);
  c.st = sub_state::waiting;
  if (!c.at)
    unplaced_ = true;
  if (c.at && c.at->up()) {
    c.token = ++next_token_;
    c.at->send(conn::kind::sub, name, c.token);
    c.st = sub_state::pending;
  }
}

subscriber::conn* subscriber::conn_for(const std::string& name) {
  if (!settings_.cluster)
    return settings_.seeds.empty() ? nullptr : conn_to(settings_.seeds.front());
  auto* owner = router_.map().owner_of(key_slot(name));
  if (!owner) {
    router_.request_refresh();
    return nullptr;
  }
  return conn_to(*owner);
}

subscriber::conn* subscriber::conn_to(const endpoint& ep) {
  auto key = key_of(ep);
  auto it = conns_.find(key);
  if (it != conns_.end())
    return it->second.get();
  auto c = std::make_unique<conn>(*this, ep);
  auto* raw = c.get();
  conns_.emplace(key, std::move(c));
  raw->start();
  return raw;
}

void subscriber::activated(conn& at, const std::string& name, uint64_t token) {
  auto it = channels_.find(name);
  if (it == channels_.end())
    return; // unsubscribed meanwhile; our UNSUBSCRIBE follows
  auto& c = it->second;
  if (c.at != &at || c.token != token || c.st != sub_state::pending)
    return; // an older subscription of the same name
  c.st = sub_state::active;
  bool again = c.ever_active;
  c.ever_active = true;
  if (again)
    stats_.resubscribes.fetch_add(1, std::memory_order_relaxed);
  notify();
  if (c.h.on_active)
    run_callback(stats_, "on_active", [&] { c.h.on_active(again); });
}

void subscriber::refused(conn& at, const std::string& name, const reply& err) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.at != &at)
    return;
  // MOVED: the map is stale; anything else is retried too (tick places waiting channels).
  unplace(it->second);
  if (err.error_is("MOVED") || err.error_is("CLUSTERDOWN") || err.error_is("TRYAGAIN"))
    router_.request_refresh();
  else
    CHAT_LOG_LIMITED(spdlog::level::warn, "redis: subscribing {} refused: {}", name, err.str);
  notify();
}

void subscriber::message(conn& at, const std::string& name, std::string_view payload) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.at != &at || it->second.st != sub_state::active)
    return; // unsubscribed, or a late message from a connection it left
  stats_.messages.fetch_add(1, std::memory_order_relaxed);
  if (it->second.h.on_message)
    run_callback(stats_, "on_message", [&] { it->second.h.on_message(payload); });
}

void subscriber::ended_by_server(conn& at, const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.at != &at)
    return;
  // Its slot moved (or the server dropped it): find the owner and subscribe again there.
  unplace(it->second);
  router_.request_refresh();
  notify();
}

void subscriber::unplace(channel& c) {
  c.at = nullptr;
  c.st = sub_state::waiting;
  unplaced_ = true;
}

void subscriber::conn_up(conn& at) {
  for (auto& [name, c] : channels_) {
    if (c.at == &at && c.st == sub_state::waiting) {
      c.token = ++next_token_;
      at.send(conn::kind::sub, name, c.token);
      c.st = sub_state::pending;
    }
  }
  notify();
}

void subscriber::conn_down(conn& at) {
  for (auto& [name, c] : channels_)
    if (c.at == &at)
      c.st = sub_state::waiting; // subscribed again when it is back
  if (settings_.cluster)
    router_.request_refresh();
  notify();
}

void subscriber::on_map_changed() {
  if (stopped_ || !settings_.cluster)
    return;
  for (auto& [name, c] : channels_) {
    auto* target = conn_for(name);
    if (target == c.at)
      continue;
    if (c.at && c.at->up() && c.st != sub_state::waiting)
      c.at->send(conn::kind::unsub, name);
    place(name, c);
  }
  notify();
}

void subscriber::tick(int64_t now) {
  if (stopped_)
    return;
  retired_.clear();
  for (auto& [key, c] : conns_)
    c->tick(now);
  if (unplaced_) {
    unplaced_ = false;
    for (auto& [name, c] : channels_)
      if (!c.at)
        place(name, c); // refused or ended by the server: try the (maybe refreshed) owner
  }
  if (settings_.cluster && now >= next_sweep_ns_) {
    next_sweep_ns_ = now + 1000 * ms;
    // Connections no channel uses any more are closed (on a cluster they come and go
    // with the masters that own subscribed channels).
    std::unordered_map<const conn*, bool> used;
    for (auto& [name, c] : channels_)
      used[c.at] = true;
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (!used.count(it->second.get())) {
        it->second->stop();
        retired_.push_back(std::move(it->second));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

bool subscriber::up() const {
  if (stopped_ || unplaced_)
    return false;
  for (auto& [key, c] : conns_)
    if (!c->up())
      return false;
  return true;
}

void subscriber::notify() {
  if (changed_)
    changed_();
}

} // namespace chat::redis
