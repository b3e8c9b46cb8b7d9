// Batching, routing, bounds, redirects and slot-map refresh of the command side.
#include "net/redis/router.hpp"

#include "config/log.hpp"
#include "net/redis/callbacks.hpp"

#include <boost/asio/post.hpp>

#include <limits>

namespace chat::redis {

namespace {

constexpr int max_redirects = 5;
constexpr int64_t ms = 1000000;
constexpr int64_t retry_delay_ns = 100 * ms;    // after TRYAGAIN, CLUSTERDOWN, LOADING
constexpr int64_t refresh_min_gap_ns = 100 * ms; // between two CLUSTER SLOTS
constexpr int64_t refresh_every_ns = 10000 * ms; // periodic CLUSTER SLOTS

std::string key_of(const endpoint& ep) { return ep.host + ":" + std::to_string(ep.port); }

} // namespace

const char* to_string(failure f) {
  switch (f) {
  case failure::none: return "ok";
  case failure::rejected: return "rejected (queue full or client stopped)";
  case failure::unavailable: return "Redis unavailable";
  case failure::lost: return "connection lost before the reply";
  case failure::timeout: return "no reply within redis.command-timeout";
  case failure::redirects: return "too many cluster redirections";
  case failure::stopped: return "client stopped";
  }
  return "?";
}

std::string response::describe() const {
  if (fail != failure::none)
    return to_string(fail);
  if (value.is_error())
    return value.str;
  return "ok";
}

router::router(boost::asio::io_context& io, const settings& s, stats& st)
  : io_(io), settings_(s), stats_(st), batch_timer_(io),
    unavailable_ns_(int64_t(s.unavailable_timeout.count()) * ms),
    batch_delay_ns_(int64_t(s.batch_delay.count()) * 1000) {}

router::~router() { stop(); }

bool router::submit(request&& r) {
  auto bytes = r.bytes.size();
  auto c = queued_commands_.fetch_add(1, std::memory_order_relaxed) + 1;
  auto b = queued_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  auto undo = [&] {
    queued_commands_.fetch_sub(1, std::memory_order_relaxed);
    queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    stats_.rejected.fetch_add(1, std::memory_order_relaxed);
  };
  if (c > settings_.queue_commands || b > settings_.queue_bytes) {
    undo();
    return false;
  }
  r.deadline_ns = now_ns() + unavailable_ns_;
  bool urgent = r.when == dispatch::now;
  switch (inbox_.push(std::move(r))) {
  case inbox<request>::pushed::closed:
    undo();
    return false;
  case inbox<request>::pushed::queued_wake:
    boost::asio::post(io_, [this, urgent] { wake(urgent); });
    break;
  case inbox<request>::pushed::queued:
    // The inbox may be waiting for the batch delay; one posted wake-up is enough.
    if (urgent && batch_delay_ns_ > 0 && !urgent_posted_.exchange(true))
      boost::asio::post(io_, [this] {
        urgent_posted_.store(false); // before the drain: a later push posts again
        wake(true);
      });
    break;
  }
  stats_.commands.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void router::start() {
  for (auto& seed : settings_.seeds) {
    pipe_for(seed);
    if (!settings_.cluster)
      break; // a single server: the first (and only) host
  }
  if (!settings_.cluster && !settings_.seeds.empty()) {
    // Every slot belongs to the one server.
    for (int s = 0; s < slot_count; ++s)
      map_.assign(s, settings_.seeds.front());
    map_complete_ = true;
  }
}

void router::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  batch_timer_.cancel();
  inbox_.close();
  std::vector<request> left;
  inbox_.take(left);
  for (auto& r : left)
    finish(std::move(r), response{failure::stopped, {}});
  std::deque<request> waiting;
  waiting.swap(pending_);
  for (auto& r : waiting)
    finish(std::move(r), response{failure::stopped, {}});
  auto pipes = std::move(pipes_);
  pipes_.clear();
  for (auto& [name, p] : pipes)
    p->stop(failure::stopped);
  retired_.clear();
}

void router::add_script(const script* s) {
  scripts_.push_back(s);
  for (auto& [name, p] : pipes_) {
    if (!p->up())
      continue;
    request load;
    append_command(load.bytes, {"SCRIPT", "LOAD", s->text()});
    load.internal = true;
    p->send(std::move(load));
    p->flush();
  }
}

// Batched commands (room sequencing) drain at most once per batch-delay: one after a quiet
// spell goes at once, one soon after a drain waits out the rest of the delay with those
// that follow it. Redis's CPU per command falls by up to half when several share a
// write (docs/BENCHMARKS.md), as do the nodes' wake-ups for the replies and channel
// messages they cause. Any other command drains the inbox at once, batched ones with it.
void router::wake(bool urgent) {
  if (stopped_)
    return;
  auto now = now_ns();
  auto due = last_drain_ns_ + batch_delay_ns_;
  if (urgent || now >= due) { // a delay of 0: always due
    if (batch_armed_) {
      batch_armed_ = false;
      ++batch_generation_;
      batch_timer_.cancel();
    }
    return drain_inbox();
  }
  if (batch_armed_)
    return;
  batch_armed_ = true;
  batch_timer_.expires_after(std::chrono::nanoseconds(due - now));
  batch_timer_.async_wait([this, gen = batch_generation_](boost::system::error_code ec) {
    if (ec || gen != batch_generation_)
      return; // cancelled: drained early, or the router is stopping or gone
    batch_armed_ = false;
    drain_inbox();
  });
}

void router::drain_inbox() {
  if (stopped_)
    return;
  inbox_.take(batch_);
  auto now = last_drain_ns_ = now_ns();
  if (pending_dirty_)
    drain_pending(now); // what waited goes out before what came after it
  for (auto& r : batch_)
    route(std::move(r), now);
  batch_.clear();
  flush_all();
}

void router::send_internal(request&& r) {
  r.internal = true;
  r.deadline_ns = now_ns() + unavailable_ns_;
  route(std::move(r), now_ns());
  flush_all();
}

void router::route(request&& r, int64_t now) {
  pipeline* p = nullptr;
  if (r.not_before_ns <= now) {
    if (r.ask) {
      p = pipe_for(*r.ask);
    } else if (r.slot < 0) {
      p = any_up_pipe();
    } else if (auto* owner = map_.owner_of(r.slot)) {
      p = pipe_for(*owner);
    } else {
      request_refresh();
    }
  }
  if (p && p->up()) {
    if (r.ask) {
      request asking;
      append_command(asking.bytes, {"ASKING"});
      asking.internal = true;
      p->send(std::move(asking));
      r.ask.reset();
    }
    p->send(std::move(r));
    return;
  }
  if (now >= r.deadline_ns) {
    finish(std::move(r), response{failure::unavailable, {}});
    return;
  }
  auto wake = r.not_before_ns > now ? std::min(r.not_before_ns, r.deadline_ns) : r.deadline_ns;
  if (pending_.empty() || wake < next_pending_check_)
    next_pending_check_ = wake;
  pending_.push_back(std::move(r));
}

void router::drain_pending(int64_t now) {
  pending_dirty_ = false;
  next_pending_check_ = std::numeric_limits<int64_t>::max();
  std::deque<request> waiting;
  waiting.swap(pending_);
  for (auto& r : waiting)
    route(std::move(r), now); // those still blocked return to pending_, in order
}

void router::retry_later(request&& r, int64_t now) {
  r.not_before_ns = now + retry_delay_ns;
  route(std::move(r), now);
}

pipeline* router::pipe_for(const endpoint& ep) {
  auto key = key_of(ep);
  auto it = pipes_.find(key);
  if (it != pipes_.end())
    return it->second.get();
  auto p = std::make_unique<pipeline>(io_, ep, settings_, stats_, *this);
  auto* raw = p.get();
  pipes_.emplace(key, std::move(p));
  raw->start();
  return raw;
}

pipeline* router::any_up_pipe() {
  for (auto& [name, p] : pipes_)
    if (p->up())
      return p.get();
  return nullptr;
}

void router::flush_all() {
  for (auto& [name, p] : pipes_)
    p->flush();
}

bool router::up() const {
  if (stopped_ || pipes_.empty())
    return false;
  for (auto& ep : map_.masters) {
    auto it = pipes_.find(key_of(ep));
    if (it == pipes_.end() || !it->second->up())
      return false;
  }
  return map_complete_;
}

void router::notify() {
  if (changed_)
    changed_();
}

void router::on_pipeline_up(pipeline& p) {
  for (auto* s : scripts_) {
    request load;
    append_command(load.bytes, {"SCRIPT", "LOAD", s->text()});
    load.internal = true;
    load.done = [name = p.name()](response&& resp) {
      if (!resp.ok())
        CHAT_LOG_LIMITED(spdlog::level::warn, "redis {}: SCRIPT LOAD failed: {}", name,
                         resp.describe());
    };
    p.send(std::move(load));
  }
  pending_dirty_ = true;
  drain_pending(now_ns());
  p.flush();
  if (settings_.cluster)
    request_refresh();
  notify();
}

void router::on_pipeline_down(pipeline&) {
  if (settings_.cluster)
    request_refresh(); // a failover may have moved its slots
  notify();
}

void router::on_pipeline_failed(request&& r, failure why) { finish(std::move(r), {why, {}}); }

bool router::redirect(pipeline& p, request& r, const reply& value) {
  auto now = now_ns();
  if (settings_.cluster && (value.error_is("MOVED") || value.error_is("ASK"))) {
    int slot;
    endpoint to;
    if (!parse_redirect(value.str, slot, to)) {
      stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (to.host.empty())
      to.host = p.where().host;
    if (++r.redirects > max_redirects) {
      finish(std::move(r), {failure::redirects, {}});
      return true;
    }
    stats_.redirects.fetch_add(1, std::memory_order_relaxed);
    if (value.error_is("MOVED")) {
      map_.assign(slot, to);
      map_complete_ = map_.complete();
      request_refresh();
    } else {
      r.ask = to;
    }
    route(std::move(r), now);
    return true;
  }
  if (value.error_is("TRYAGAIN") || value.error_is("CLUSTERDOWN") || value.error_is("LOADING")
      || value.error_is("MASTERDOWN")) {
    stats_.redirects.fetch_add(1, std::memory_order_relaxed);
    if (settings_.cluster)
      request_refresh();
    retry_later(std::move(r), now);
    return true;
  }
  if (value.error_is("NOSCRIPT") && r.scr) {
    auto eval = r.scr->to_eval(r.bytes);
    if (eval.empty())
      return false;
    stats_.noscript.fetch_add(1, std::memory_order_relaxed);
    r.bytes = std::move(eval);
    r.scr = nullptr;
    route(std::move(r), now);
    return true;
  }
  return false;
}

void router::on_pipeline_reply(pipeline& p, request&& r, reply&& value) {
  if (value.is_error() && redirect(p, r, value)) {
    flush_all();
    return;
  }
  finish(std::move(r), response{failure::none, std::move(value)});
}

void router::finish(request&& r, response&& resp) {
  if (!r.internal) {
    queued_commands_.fetch_sub(1, std::memory_order_relaxed);
    queued_bytes_.fetch_sub(r.bytes.size(), std::memory_order_relaxed);
    switch (resp.fail) {
    case failure::none:
      stats_.replies.fetch_add(1, std::memory_order_relaxed);
      if (resp.value.is_error())
        stats_.error_replies.fetch_add(1, std::memory_order_relaxed);
      break;
    case failure::unavailable: stats_.unavailable.fetch_add(1, std::memory_order_relaxed); break;
    case failure::lost:
    case failure::timeout: stats_.lost.fetch_add(1, std::memory_order_relaxed); break;
    default: break;
    }
  }
  if (r.done)
    run_callback(stats_, "reply", [&] { r.done(std::move(resp)); });
}

void router::request_refresh() {
  if (!settings_.cluster)
    return;
  refresh_wanted_ = true;
  maybe_refresh(now_ns());
}

void router::maybe_refresh(int64_t now) {
  if (stopped_ || !refresh_wanted_ || refreshing_ || now - last_refresh_ns_ < refresh_min_gap_ns)
    return;
  auto* p = any_up_pipe();
  if (!p)
    return; // retried from tick() once a connection is up
  refreshing_ = true;
  refresh_wanted_ = false;
  last_refresh_ns_ = now;
  request r;
  append_command(r.bytes, {"CLUSTER", "SLOTS"});
  r.internal = true;
  r.done = [this, asked = p->where()](response&& resp) {
    refreshing_ = false;
    if (stopped_)
      return;
    slot_map m;
    auto err = resp.fail != failure::none ? std::string(to_string(resp.fail))
                                          : parse_cluster_slots(resp.value, asked, m);
    if (err.empty() && !m.complete())
      err = "not every slot has a master";
    if (!err.empty()) {
      if (resp.fail == failure::none)
        stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
      CHAT_LOG_LIMITED(spdlog::level::warn, "redis: cluster slot map refresh: {}", err);
      if (!m.masters.empty())
        apply_map(std::move(m)); // a partial map still routes the slots it knows
      refresh_wanted_ = true;
      return;
    }
    apply_map(std::move(m));
  };
  p->send(std::move(r));
  p->flush();
}

void router::apply_map(slot_map&& m) {
  map_ = std::move(m);
  map_complete_ = map_.complete();
  stats_.map_refreshes.fetch_add(1, std::memory_order_relaxed);
  for (auto& ep : map_.masters)
    pipe_for(ep);
  retire_unused();
  pending_dirty_ = true;
  drain_pending(now_ns());
  flush_all();
  notify();
}

void router::retire_unused() {
  // Connections to nodes that are no longer masters close once nothing is in flight on
  // them (a node that lost its slots still answers, with MOVED at worst).
  for (auto it = pipes_.begin(); it != pipes_.end();) {
    bool master = false;
    for (auto& ep : map_.masters)
      master = master || key_of(ep) == it->first;
    if (!master && it->second->in_flight() == 0) {
      it->second->stop(failure::lost);
      retired_.push_back(std::move(it->second)); // may be on the call stack: free later
      it = pipes_.erase(it);
    } else {
      ++it;
    }
  }
}

void router::tick(int64_t now) {
  if (stopped_)
    return;
  retired_.clear();
  for (auto& [name, p] : pipes_)
    p->tick(now);
  if (settings_.cluster) {
    if (pipes_.empty()) // every known node is gone: start over from the seeds
      for (auto& seed : settings_.seeds)
        pipe_for(seed);
    if (now - last_refresh_ns_ > refresh_every_ns)
      refresh_wanted_ = true;
    maybe_refresh(now);
    if (map_complete_)
      retire_unused();
  }
  if (!pending_.empty() && (pending_dirty_ || now >= next_pending_check_)) {
    drain_pending(now);
    flush_all();
  }
}

} // namespace chat::redis
