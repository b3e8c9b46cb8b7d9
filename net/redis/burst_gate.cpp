// Holding sequencing calls back while a burst is unanswered (see burst_gate.hpp).
#include "net/redis/burst_gate.hpp"

#include "net/redis/client.hpp"
#include "net/redis/link.hpp"

#include <boost/asio/post.hpp>

#include <atomic>
#include <mutex>
#include <vector>

namespace chat::redis {

struct burst_gate::state : std::enable_shared_from_this<state> {
  explicit state(client& cl) : c(cl) {}

  client& c;
  std::mutex mu;
  std::vector<request> held; // in submission order
  uint64_t held_bytes = 0;
  size_t outstanding = 0;    // calls sent and not answered yet
  std::atomic<uint64_t> bursts{0}, calls{0};

  // Counts `r` as outstanding until its callback has run.
  void wrap(request& r) {
    callback wrapped = [self = shared_from_this(), done = std::move(r.done)](response&& resp) {
      done(std::move(resp));
      self->answered();
    };
    r.done = std::move(wrapped);
  }

  // Sends what is held, as one burst, unless calls are still unanswered.
  void release() {
    std::vector<request> burst;
    {
      std::lock_guard<std::mutex> guard(mu);
      if ((outstanding > 0 && c.up()) || held.empty())
        return;
      burst.swap(held);
      held_bytes = 0;
      outstanding += burst.size();
    }
    bursts.fetch_add(1, std::memory_order_relaxed);
    calls.fetch_add(burst.size(), std::memory_order_relaxed);
    for (auto& r : burst) {
      wrap(r);
      if (!c.submit(r)) // left as it was: answer it here
        r.done(response{failure::rejected, {}});
    }
  }

  void answered() {
    bool go;
    {
      std::lock_guard<std::mutex> guard(mu);
      --outstanding;
      go = outstanding == 0 && !held.empty();
    }
    if (go)
      release();
  }
};

burst_gate::burst_gate(client& c) : state_(std::make_shared<state>(c)) {}

burst_gate::~burst_gate() = default;

uint64_t burst_gate::bursts() const { return state_->bursts.load(std::memory_order_relaxed); }

uint64_t burst_gate::calls() const { return state_->calls.load(std::memory_order_relaxed); }

bool burst_gate::submit(const script& s, std::string&& bytes, int32_t slot, callback done) {
  auto& st = *state_;
  const auto& cfg = st.c.config();
  request r;
  r.bytes = std::move(bytes);
  r.slot = slot;
  r.scr = &s;
  r.done = std::move(done);
  r.deadline_ns = now_ns() + int64_t(cfg.unavailable_timeout.count()) * 1000000;
  if (!cfg.cluster) {
    std::lock_guard<std::mutex> guard(st.mu);
    if (st.outstanding > 0 && st.c.up()) {
      if (st.held.size() >= cfg.queue_commands
          || st.held_bytes + r.bytes.size() > cfg.queue_bytes)
        return false;
      st.held_bytes += r.bytes.size();
      st.held.push_back(std::move(r));
      return true;
    }
    ++st.outstanding; // a burst of one, sent from here
  }
  auto sent = [&st] {
    st.bursts.fetch_add(1, std::memory_order_relaxed);
    st.calls.fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  if (cfg.cluster)
    return st.c.submit(r) && sent();
  st.wrap(r);
  if (st.c.submit(r))
    return sent();
  // Refused: `done` stays uncalled (the caller learns it from the result); calls held
  // behind this one in the meantime go out from the client's thread.
  bool go;
  {
    std::lock_guard<std::mutex> guard(st.mu);
    --st.outstanding;
    go = st.outstanding == 0 && !st.held.empty();
  }
  if (go)
    boost::asio::post(st.c.io(), [self = state_] { self->release(); });
  return false;
}

} // namespace chat::redis
