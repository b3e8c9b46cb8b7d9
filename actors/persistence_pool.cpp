// Writer actors of the persistence pool. Each runs detached (store calls block), gathers
// what arrives into a batch, and commits it when it holds `batch-max` messages or when a
// delay has passed since its first message: `batch-delay` when a sender waits for a
// persisted ack, the longer `lazy-delay` when nobody does. SQLite's cost per message falls
// steeply with the batch size (each commit rewrites a leaf page per room in every
// room-keyed index), so traffic acked on sequencing is written in large batches. A failed
// commit keeps the batch and retries with exponential backoff; acks for persisted sends go
// out after the commit.
#include "actors/persistence_pool.hpp"

#include "actors/node_context.hpp"
#include "actors/user_writer.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <functional>
#include <iterator>
#include <optional>
#include <unordered_map>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <thread>

namespace chat {

struct store_item {
  chat_message m;
  member_ref ack_to; // ack_to.out == nullptr: no ack waits for this message
  std::string rid;
  room_actor room; // told how far its messages are committed
};

// Items reach a writer through this inbox rather than one actor message each: the writer
// is woken (one small message) only when its inbox goes from empty to non-empty or fills
// a batch, so a busy node wakes a writer thread once per batch, not once per message.
struct writer_inbox {
  std::mutex mtx;
  std::vector<store_item> items;
  std::atomic<uint64_t> handled{0}; // messages the writer actor handled
  std::atomic<uint64_t> held{0};    // items drained from the inbox and not committed
  bool full_signaled = false;       // a "full batch" wake-up is on its way (mtx)
  bool urgent_signaled = false;     // a "an ack waits" wake-up is on its way (mtx)
  std::atomic<bool> failing{false}; // this writer's last commit attempt failed
};

namespace {

struct writer_state {
  std::shared_ptr<storage::message_store> store;
  std::shared_ptr<writer_inbox> inbox;
  std::vector<store_item> incoming;
  std::vector<store_item> batch;
  std::vector<chat_message> rows;
  std::unordered_map<caf::abstract_actor*, const store_item*> committed; // room -> its newest
  // When the pending tick should flush; ticks that find it unset or in the future (a
  // later deadline superseded by an earlier one) do nothing.
  std::optional<std::chrono::steady_clock::time_point> due;
  std::chrono::milliseconds backoff{0};
  std::atomic<uint64_t>* backlog = nullptr;
  std::shared_ptr<persistence_pool::counters> counters;
  config::micros delay{0};      // a sender waits for a persisted ack
  config::micros lazy_delay{0}; // nobody waits
  uint32_t batch_max = 1000;
  int nice = 0;
  bool niced = false;

  // Moves everything in the inbox into the batch.
  void drain() {
    {
      std::lock_guard<std::mutex> guard(inbox->mtx);
      incoming.swap(inbox->items);
      inbox->urgent_signaled = false;
    }
    std::move(incoming.begin(), incoming.end(), std::back_inserter(batch));
    incoming.clear();
  }

  // The delay for what the batch holds now.
  config::micros pending_delay() const {
    for (const auto& it : batch)
      if (it.ack_to.out)
        return delay;
    return lazy_delay;
  }
};

// Commits up to batch_max items; returns false when the store failed.
bool commit_some(writer_state& st) {
  size_t n = std::min<size_t>(st.batch.size(), st.batch_max);
  st.rows.clear();
  for (size_t i = 0; i < n; ++i)
    st.rows.push_back(st.batch[i].m);
  auto started = std::chrono::steady_clock::now();
  try {
    if (!st.rows.empty())
      st.store->insert_batch(st.rows);
  } catch (const std::exception&) {
    st.counters->failures.fetch_add(1, std::memory_order_relaxed);
    st.inbox->failing.store(true, std::memory_order_relaxed);
    return false;
  }
  st.inbox->failing.store(false, std::memory_order_relaxed);
  if (!st.rows.empty()) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    st.counters->write_latency.observe(took.count());
    st.counters->batch_sizes.observe(st.rows.size());
  }
  // Each room keeps its messages in its ring until it hears they are committed, so history
  // and replay never find a gap between the store and the ring.
  st.committed.clear();
  for (size_t i = 0; i < n; ++i) {
    const auto& it = st.batch[i];
    if (it.room) {
      auto& newest = st.committed[caf::actor_cast<caf::abstract_actor*>(it.room)];
      if (!newest || newest->m.seq < it.m.seq)
        newest = &it;
    }
  }
  for (const auto& [room, it] : st.committed)
    caf::anon_send(it->room, r_persist_atom::value, it->m.seq);
  for (size_t i = 0; i < n; ++i) {
    auto& it = st.batch[i];
    if (it.ack_to.out
        && it.ack_to.out->push(
          it.ack_to.enc->ack(it.m.room, it.m.cid, it.m.seq, it.m.ts_ms, it.rid)))
      st.counters->acks_persisted.fetch_add(1, std::memory_order_relaxed);
  }
  st.batch.erase(st.batch.begin(), st.batch.begin() + long(n));
  st.backlog->fetch_sub(n, std::memory_order_relaxed);
  st.counters->stored.fetch_add(n, std::memory_order_relaxed);
  st.counters->batches.fetch_add(1, std::memory_order_relaxed);
  return true;
}

using writer_pointer = caf::stateful_actor<writer_state>*;

// Makes a tick flush `after` from now, unless one is already due sooner.
void arm(writer_pointer self, std::chrono::microseconds after) {
  auto& st = self->state;
  auto at = std::chrono::steady_clock::now() + after;
  if (st.due && *st.due <= at)
    return;
  st.due = at;
  self->delayed_send(self, after, w_tick_atom::value);
}

// Drains the inbox and commits everything (with `full_only`, only whole batches, leaving
// the rest to the delay timer); on failure arms a retry with backoff.
bool flush(writer_pointer self, bool full_only = false) {
  auto& st = self->state;
  if (!st.niced) {
    // This (detached) thread yields to the live path: the network thread and the actor
    // workers preempt it, while an idle core still runs it at full speed.
    st.niced = true;
    setpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)), st.nice);
  }
  st.inbox->handled.fetch_add(1, std::memory_order_relaxed);
  for (;;) {
    st.drain();
    while (!st.batch.empty() && (!full_only || st.batch.size() >= st.batch_max)) {
      if (!commit_some(st)) {
        st.inbox->held.store(st.batch.size(), std::memory_order_relaxed);
        st.backoff = std::min(std::chrono::milliseconds(1000),
                              std::max(std::chrono::milliseconds(10), st.backoff * 2));
        arm(self, st.backoff);
        return false;
      }
      st.backoff = std::chrono::milliseconds(0);
    }
    // Producers count what is held here towards a full batch (see enqueue); what came in
    // meanwhile may complete one already.
    st.inbox->held.store(st.batch.size(), std::memory_order_relaxed);
    std::lock_guard<std::mutex> guard(st.inbox->mtx);
    st.inbox->full_signaled = false;
    if (st.inbox->items.empty() || st.inbox->items.size() + st.batch.size() < st.batch_max)
      break;
  }
  if (!st.batch.empty())
    arm(self, st.pending_delay());
  return true;
}

caf::behavior writer_impl(writer_pointer self, std::shared_ptr<storage::message_store> store,
                          std::shared_ptr<writer_inbox> inbox, std::atomic<uint64_t>* backlog,
                          std::shared_ptr<persistence_pool::counters> counters,
                          config::micros delay, config::micros lazy_delay, uint32_t batch_max,
                          int nice) {
  auto& st = self->state;
  st.nice = nice;
  st.store = std::move(store);
  st.inbox = std::move(inbox);
  st.backlog = backlog;
  st.counters = std::move(counters);
  st.delay = delay;
  st.lazy_delay = std::max(delay, lazy_delay);
  st.batch_max = batch_max;
  return {
    // The inbox went from empty to non-empty, received an item whose sender waits for a
    // persisted ack (`urgent`), or holds a full batch.
    [self](w_store_atom, bool full, bool urgent) {
      auto& st = self->state;
      if (st.backoff.count() > 0)
        return; // failing: the retry timer drives the next attempt
      if (full)
        flush(self, true);
      else
        arm(self, urgent ? st.delay : st.lazy_delay);
    },
    [self](w_tick_atom) {
      auto& st = self->state;
      if (!st.due || std::chrono::steady_clock::now() < *st.due)
        return;
      st.due.reset();
      flush(self);
    },
    [self](w_flush_atom) -> bool {
      // Shutdown: commit until the inbox is empty too (a normal flush leaves what arrived
      // during its commit to the next timer); on failures keep trying for a while, then
      // report what is left.
      for (int failures = 0; failures < 50;) {
        if (!flush(self)) {
          ++failures;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        std::lock_guard<std::mutex> guard(self->state.inbox->mtx);
        if (self->state.inbox->items.empty())
          return true;
      }
      return false;
    },
  };
}

} // namespace

persistence_pool::persistence_pool(caf::actor_system& sys, const config::node_config& cfg,
                                   store_factory make, user_store_factory make_users)
  : sys_(sys), backlog_max_(cfg.backlog_max), counters_(std::make_shared<counters>()) {
  reader_ = make();
  user_writer_ = spawn_user_writer(sys, make_users(), cfg.backlog_max,
                                   counters_->access_dropped);
  batch_max_ = cfg.batch_max;
  for (uint32_t i = 0; i < cfg.writers; ++i) {
    std::shared_ptr<storage::message_store> store = make();
    auto inbox = std::make_shared<writer_inbox>();
    inboxes_.push_back(inbox);
    writers_.push_back(sys.spawn<caf::detached>(writer_impl, store, inbox, &backlog_, counters_,
                                                cfg.batch_delay, cfg.lazy_delay, cfg.batch_max,
                                                int(cfg.writer_nice)));
  }
}

persistence_pool::~persistence_pool() {
  for (auto& w : writers_)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(user_writer_, caf::exit_reason::user_shutdown);
}

void persistence_pool::set_online(const std::string& user, bool online) {
  caf::anon_send(user_writer_, u_online_atom::value, user, online, now_ms());
}

void persistence_pool::log_access(storage::access_entry entry) {
  caf::anon_send(user_writer_, u_access_atom::value, std::move(entry));
}

void persistence_pool::enqueue(store_item&& item) {
  backlog_.fetch_add(1, std::memory_order_relaxed);
  auto index = std::hash<std::string>{}(item.m.room) % writers_.size();
  auto& inbox = *inboxes_[index];
  bool waits = item.ack_to.out != nullptr;
  bool first = false;
  bool full = false;
  bool urgent = false;
  {
    std::lock_guard<std::mutex> guard(inbox.mtx);
    inbox.items.push_back(std::move(item));
    first = inbox.items.size() == 1;
    if (!inbox.full_signaled
        && inbox.items.size() + inbox.held.load(std::memory_order_relaxed) >= batch_max_)
      full = inbox.full_signaled = true;
    if (waits && !inbox.urgent_signaled)
      urgent = inbox.urgent_signaled = true;
  }
  if (first || full || urgent)
    caf::anon_send(writers_[index], w_store_atom::value, full, urgent);
}

void persistence_pool::store(const chat_message& m, const member_ref* ack_to,
                             const std::string& rid, room_actor room) {
  enqueue(store_item{m, ack_to ? *ack_to : member_ref{}, ack_to ? rid : std::string{},
                     std::move(room)});
}

void persistence_pool::count_persisted_ack() {
  counters_->acks_persisted.fetch_add(1, std::memory_order_relaxed);
}

void persistence_pool::flush_and_stop() {
  caf::scoped_actor self{sys_};
  for (auto& w : writers_)
    self->request(w, caf::infinite, w_flush_atom::value)
      .receive([](bool) {}, [](caf::error&) {});
  self->request(user_writer_, caf::infinite, w_flush_atom::value)
    .receive([](bool) {}, [](caf::error&) {});
  for (auto& w : writers_)
    self->send_exit(w, caf::exit_reason::user_shutdown);
  self->send_exit(user_writer_, caf::exit_reason::user_shutdown);
  writers_.clear();
}

std::vector<writer_stats> persistence_pool::writer_details() const {
  std::vector<writer_stats> out;
  for (auto& inbox : inboxes_) {
    std::lock_guard<std::mutex> guard(inbox->mtx);
    out.push_back({inbox->items.size() + inbox->held.load(), inbox->handled.load()});
  }
  return out;
}

pool_stats persistence_pool::stats() const {
  return {counters_->stored.load(), counters_->batches.load(), counters_->failures.load(),
          backlog_.load()};
}

bool persistence_pool::healthy() {
  for (const auto& inbox : inboxes_)
    if (inbox->failing.load(std::memory_order_relaxed))
      return false;
  std::lock_guard<std::mutex> guard(reader_mtx_);
  try {
    return reader_->reachable();
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<chat_message> persistence_pool::read_history(const std::string& room,
                                                         uint64_t before, uint32_t limit) {
  std::lock_guard<std::mutex> guard(reader_mtx_);
  try {
    return reader_->history(room, before, limit);
  } catch (const std::exception&) {
    return {};
  }
}

std::vector<chat_message> persistence_pool::read_since(const std::string& room, uint64_t after,
                                                       uint64_t upto) {
  std::lock_guard<std::mutex> guard(reader_mtx_);
  std::vector<chat_message> out;
  try {
    while (after < upto) {
      auto chunk = reader_->since(room, after, 500);
      if (chunk.empty())
        break;
      for (auto& m : chunk) {
        if (m.seq > upto)
          return out;
        after = m.seq;
        out.push_back(std::move(m));
      }
    }
  } catch (const std::exception&) {
  }
  return out;
}

std::vector<chat_message> persistence_pool::read_recent(const std::string& room,
                                                        uint32_t limit) {
  return read_history(room, 0, limit);
}

uint64_t persistence_pool::last_seq(const std::string& room) {
  std::lock_guard<std::mutex> guard(reader_mtx_);
  for (int attempt = 0;; ++attempt) {
    try {
      return reader_->last_seq(room);
    } catch (const std::exception&) {
      if (attempt >= 20)
        throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

} // namespace chat
