// The parked Socket.IO sockets of a node and their deadlines (see socketio_recovery.hpp).
#include "net/socketio_recovery.hpp"

#include "config/log.hpp"
#include "net/engineio_packet.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

namespace chat::net {

namespace {

using sweep_atom = caf::atom_constant<caf::atom("sio_sweep")>;

// Sweeps when a parked socket's deadline has come: one delayed message per park, none
// while nothing is parked.
caf::behavior sweeper(caf::event_based_actor*, std::weak_ptr<recovery_registry> registry) {
  return {
    [registry](sweep_atom) {
      if (auto r = registry.lock())
        r->sweep(recovery_registry::clock::now());
    },
  };
}

} // namespace

recovery_registry::recovery_registry(node_counters& counters, std::chrono::milliseconds keep,
                                     size_t max_parked, size_t max_per_user)
  : counters_(counters), keep_(keep), max_parked_(max_parked), max_per_user_(max_per_user) {}

recovery_registry::~recovery_registry() {
  shutdown();
}

void recovery_registry::start(caf::actor_system& sys) {
  // Hidden: the node's shutdown waits for its actors, and this one must never hold it up
  // (a node that failed to start never calls shutdown()).
  sweeper_ = sys.spawn<caf::hidden>(sweeper, weak_from_this());
}

std::string recovery_registry::new_pid() {
  return eio::random_id();
}

void recovery_registry::park(const std::string& pid, parked_socket s) {
  s.deadline = clock::now() + keep_;
  std::optional<parked_socket> drop; // released outside the lock
  caf::actor sweeper;
  const char* full = nullptr; // which bound refused it
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (!stopped_ && parked_.size() >= max_parked_)
      full = "sio.recovery-max-sockets";
    else if (!stopped_ && user_full(s.user, pid))
      full = "chat.max-connections-per-user";
    if (stopped_ || full) {
      drop = std::move(s); // shutting down, or too many: nothing waits for this one
    } else {
      if (auto i = parked_.find(pid); i != parked_.end()) {
        drop = std::move(i->second);
        parked_.erase(i);
      } else {
        counters_.sio_detached.fetch_add(1, std::memory_order_relaxed);
      }
      parked_.emplace(pid, std::move(s));
      sweeper = sweeper_;
    }
  }
  if (full) {
    CHAT_LOG_LIMITED(spdlog::level::warn,
                     "socket.io recovery: a dropped socket of user {} released at once ({} "
                     "dropped sockets kept already)", drop->user, full);
    count(sio_recovery_result::overflow);
  }
  if (drop && drop->out)
    drop->out->release();
  if (sweeper)
    caf::delayed_anon_send(sweeper, keep_ + std::chrono::milliseconds(1), sweep_atom::value);
}

// Counted when parking only (a transport loss, not a message): a scan of at most
// max_parked entries, skipped while fewer than max_per_user sockets are parked in all.
bool recovery_registry::user_full(const std::string& user, const std::string& pid) const {
  if (parked_.size() < max_per_user_)
    return false;
  size_t n = 0;
  for (auto& [p, s] : parked_)
    if (s.user == user && p != pid && ++n >= max_per_user_)
      return true;
  return false;
}

void recovery_registry::live(const std::string& pid, const std::string& user, const void* owner,
                             detacher d) {
  std::lock_guard<std::mutex> guard(mtx_);
  live_[pid] = live_socket{user, owner, std::move(d)};
}

void recovery_registry::unlive(const std::string& pid, const void* owner) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = live_.find(pid);
  if (i != live_.end() && i->second.owner == owner)
    live_.erase(i);
}

recovery_registry::lookup recovery_registry::take(const std::string& pid, const std::string& user,
                                                  parked_socket& out) {
  auto take_parked = [&]() -> std::optional<lookup> {
    auto i = parked_.find(pid);
    if (i == parked_.end())
      return std::nullopt;
    if (i->second.user != user)
      return lookup::other_user;
    out = std::move(i->second);
    parked_.erase(i);
    counters_.sio_detached.fetch_sub(1, std::memory_order_relaxed);
    return lookup::found;
  };
  detacher detach;
  const void* owner = nullptr;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (auto r = take_parked())
      return *r;
    auto i = live_.find(pid);
    if (i == live_.end())
      return lookup::unknown;
    if (i->second.user != user)
      return lookup::other_user;
    detach = i->second.detach;
    owner = i->second.owner;
  }
  // Outside the lock: the detacher locks its connection, which may be parking it now.
  if (auto s = detach()) {
    unlive(pid, owner);
    out = std::move(*s);
    return lookup::found;
  }
  std::lock_guard<std::mutex> guard(mtx_);
  if (auto r = take_parked())
    return *r;
  return lookup::unknown;
}

void recovery_registry::put_back(const std::string& pid, parked_socket s) {
  // Its own deadline when it was parked; a socket taken from its connection gets a full one.
  auto now = clock::now();
  if (s.deadline == clock::time_point{})
    s.deadline = now + keep_;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(s.deadline - now);
  caf::actor sweeper;
  bool kept = false;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (!stopped_ && !parked_.count(pid)) {
      parked_.emplace(pid, std::move(s));
      counters_.sio_detached.fetch_add(1, std::memory_order_relaxed);
      sweeper = sweeper_;
      kept = true;
    }
  }
  if (!kept) {
    s.out->release(); // shutting down, or parked again meanwhile
    return;
  }
  if (!sweeper)
    return;
  // The sweep planned at its park may have run while it was out.
  caf::delayed_anon_send(sweeper, std::max(left, std::chrono::milliseconds(0))
                                    + std::chrono::milliseconds(1),
                         sweep_atom::value);
}

void recovery_registry::forget(const std::string& pid, const recoverable_outbound* out) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = parked_.find(pid);
  if (i != parked_.end() && i->second.out.get() == out) {
    parked_.erase(i);
    counters_.sio_detached.fetch_sub(1, std::memory_order_relaxed);
  }
}

void recovery_registry::sweep(clock::time_point now) {
  std::vector<parked_socket> gone;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    for (auto i = parked_.begin(); i != parked_.end();) {
      if (i->second.deadline <= now) {
        gone.push_back(std::move(i->second));
        i = parked_.erase(i);
        counters_.sio_detached.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++i;
      }
    }
  }
  release_all(gone, sio_recovery_result::expired);
}

void recovery_registry::shutdown() {
  std::vector<parked_socket> gone;
  caf::actor sweeper;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    for (auto& [pid, s] : parked_)
      gone.push_back(std::move(s));
    counters_.sio_detached.fetch_sub(int64_t(parked_.size()), std::memory_order_relaxed);
    parked_.clear();
    live_.clear();
    stopped_ = true;
    sweeper = std::move(sweeper_);
    sweeper_ = nullptr;
  }
  for (auto& s : gone)
    s.out->release();
  if (sweeper)
    caf::anon_send_exit(sweeper, caf::exit_reason::user_shutdown);
}

void recovery_registry::release_all(std::vector<parked_socket>& gone, sio_recovery_result why) {
  for (auto& s : gone) {
    if (!s.out->released())
      count(why);
    s.out->release();
  }
}

size_t recovery_registry::parked() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return parked_.size();
}

} // namespace chat::net
