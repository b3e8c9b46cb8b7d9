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
#include "config/log.hpp"

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

struct mark_item {
  std::string room;
  uint64_t mark = 0;
  uint64_t release_from = 0; // a release (see storage::seq_mark)
  room_actor reply_to;       // told (r_mark, or r_freed for a release) once it is durable
};

// Items reach a writer through this inbox rather than one actor message each: the writer
// is woken (one small message) only when its inbox goes from empty to non-empty or fills
// a batch, so a busy node wakes a writer thread once per batch, not once per message.
struct writer_inbox {
  std::mutex mtx;
  std::vector<store_item> items;
  std::vector<mark_item> marks;
  std::atomic<uint64_t> handled{0}; // messages the writer actor handled
  std::atomic<uint64_t> held{0};    // items drained from the inbox and not committed
  bool full_signaled = false;       // a "full batch" wake-up is on its way (mtx)
  bool urgent_signaled = false;     // a "an ack waits" wake-up is on its way (mtx)
  bool marks_signaled = false;      // a "marks wait" wake-up is on its way (mtx)
  std::atomic<bool> failing{false}; // this writer's last commit attempt failed
};

namespace {

using w_mark_atom = caf::atom_constant<caf::atom("w_mark")>;

struct writer_state {
  std::shared_ptr<storage::message_store> store;
  std::shared_ptr<writer_inbox> inbox;
  std::vector<store_item> incoming;
  std::vector<store_item> batch;
  std::vector<chat_message> rows;
  std::vector<mark_item> marks;
  std::vector<storage::seq_mark> mark_rows;
  std::unordered_map<caf::abstract_actor*, const store_item*> committed; // room -> its newest
  // When the pending tick should flush; ticks that find it unset or in the future (a
  // later deadline superseded by an earlier one) do nothing.
  std::optional<std::chrono::steady_clock::time_point> due;
  std::chrono::milliseconds backoff{0};
  std::atomic<uint64_t>* backlog = nullptr;
  std::shared_ptr<std::atomic<uint64_t>> backlog_bytes;
  std::shared_ptr<persistence_pool::counters> counters;
  config::micros delay{0};      // a sender waits for a persisted ack
  config::micros lazy_delay{0}; // nobody waits
  uint32_t batch_max = 1000;
  size_t index = 0;
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

  void failed(const char* what, size_t n, const std::exception& e) {
    counters->failures.fetch_add(1, std::memory_order_relaxed);
    inbox->failing.store(true, std::memory_order_relaxed);
    CHAT_LOG_LIMITED(spdlog::level::warn, "writer-{}: {} ({} items) failed, retrying: {}",
                     index, what, n, e.what());
  }

  // Makes the seq marks waiting in the inbox durable, then tells their rooms; false when
  // the store failed (the marks stay for the retry).
  bool write_marks() {
    {
      std::lock_guard<std::mutex> guard(inbox->mtx);
      inbox->marks_signaled = false;
      std::move(inbox->marks.begin(), inbox->marks.end(), std::back_inserter(marks));
      inbox->marks.clear();
    }
    if (marks.empty())
      return true;
    mark_rows.clear();
    for (const auto& m : marks)
      mark_rows.push_back({m.room, m.mark, m.release_from});
    try {
      store->write_marks(mark_rows);
    } catch (const std::exception& e) {
      failed("seq reservation", marks.size(), e);
      return false;
    }
    counters->mark_writes.fetch_add(1, std::memory_order_relaxed);
    for (const auto& m : marks) {
      if (m.reply_to && m.release_from)
        caf::anon_send(m.reply_to, r_freed_atom::value);
      else if (m.reply_to)
        caf::anon_send(m.reply_to, r_mark_atom::value, m.mark);
    }
    marks.clear();
    return true;
  }
};

// Commits up to batch_max items; returns false when the store failed.
bool commit_some(writer_state& st) {
  size_t n = std::min<size_t>(st.batch.size(), st.batch_max);
  st.rows.clear();
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    st.rows.push_back(st.batch[i].m);
    bytes += message_footprint(st.batch[i].m);
  }
  auto started = std::chrono::steady_clock::now();
  size_t without_cid = 0;
  try {
    if (!st.rows.empty())
      without_cid = st.store->insert_batch(st.rows);
  } catch (const std::exception& e) {
    st.failed("commit", n, e);
    return false;
  }
  st.inbox->failing.store(false, std::memory_order_relaxed);
  if (without_cid > 0) {
    st.counters->cids_dropped.fetch_add(without_cid, std::memory_order_relaxed);
    CHAT_LOG_LIMITED(spdlog::level::warn,
                     "writer-{}: {} messages stored without their cid: another stored message "
                     "of the same user holds it (cids must be unique per user)",
                     st.index, without_cid);
  }
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
  st.backlog_bytes->fetch_sub(bytes, std::memory_order_relaxed);
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

// After a failure: the next attempt waits twice as long as the last (10 ms .. 1 s).
void retry_later(writer_pointer self) {
  auto& st = self->state;
  st.backoff = std::min(std::chrono::milliseconds(1000),
                        std::max(std::chrono::milliseconds(10), st.backoff * 2));
  arm(self, st.backoff);
}

// Writes pending marks, drains the inbox and commits everything (with `full_only`, only
// whole batches, leaving the rest to the delay timer); on failure arms a retry.
bool flush(writer_pointer self, bool full_only = false) {
  auto& st = self->state;
  if (!st.niced) {
    // This (detached) thread yields to the live path: the network thread and the actor
    // workers preempt it, while an idle core still runs it at full speed.
    st.niced = true;
    setpriority(PRIO_PROCESS, id_t(syscall(SYS_gettid)), st.nice);
  }
  st.inbox->handled.fetch_add(1, std::memory_order_relaxed);
  if (!st.write_marks()) {
    retry_later(self);
    return false;
  }
  for (;;) {
    st.drain();
    while (!st.batch.empty() && (!full_only || st.batch.size() >= st.batch_max)) {
      if (!commit_some(st)) {
        st.inbox->held.store(st.batch.size(), std::memory_order_relaxed);
        retry_later(self);
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
  st.backoff = std::chrono::milliseconds(0);
  if (!st.batch.empty())
    arm(self, st.pending_delay());
  return true;
}

// Shutdown: commits until the inbox is empty too (a normal flush leaves what arrived
// during its commit to the next timer), retrying failures until `deadline`; returns the
// messages that could not be stored.
std::vector<chat_message> final_flush(writer_pointer self,
                                      std::chrono::steady_clock::time_point deadline) {
  auto& st = self->state;
  for (;;) {
    if (flush(self)) {
      std::lock_guard<std::mutex> guard(st.inbox->mtx);
      if (st.inbox->items.empty() && st.inbox->marks.empty())
        return {};
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      break;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
      std::max(st.backoff, std::chrono::milliseconds(10)), deadline - now));
  }
  st.drain();
  std::vector<chat_message> left;
  left.reserve(st.batch.size());
  uint64_t bytes = 0;
  for (auto& it : st.batch) {
    bytes += message_footprint(it.m);
    left.push_back(std::move(it.m));
  }
  st.backlog->fetch_sub(st.batch.size(), std::memory_order_relaxed);
  st.backlog_bytes->fetch_sub(bytes, std::memory_order_relaxed);
  st.batch.clear();
  st.inbox->held.store(0, std::memory_order_relaxed);
  return left;
}

caf::behavior writer_impl(writer_pointer self, std::shared_ptr<storage::message_store> store,
                          std::shared_ptr<writer_inbox> inbox, std::atomic<uint64_t>* backlog,
                          std::shared_ptr<std::atomic<uint64_t>> backlog_bytes,
                          std::shared_ptr<persistence_pool::counters> counters,
                          const config::node_config& cfg, size_t index) {
  auto& st = self->state;
  st.nice = int(cfg.writer_nice);
  st.store = std::move(store);
  st.inbox = std::move(inbox);
  st.backlog = backlog;
  st.backlog_bytes = std::move(backlog_bytes);
  st.counters = std::move(counters);
  st.delay = cfg.batch_delay;
  st.lazy_delay = std::max(cfg.batch_delay, cfg.lazy_delay);
  st.batch_max = cfg.batch_max;
  st.index = index;
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
    // A room waits for a seq reservation: written at once, alone (the messages keep
    // their own timing, so reservations never cut a lazy batch short).
    [self](w_mark_atom) {
      auto& st = self->state;
      if (st.backoff.count() > 0)
        return;
      if (!st.write_marks())
        retry_later(self);
    },
    [self](w_tick_atom) {
      auto& st = self->state;
      if (!st.due || std::chrono::steady_clock::now() < *st.due)
        return;
      st.due.reset();
      flush(self);
    },
    [self](w_flush_atom, int64_t deadline_ns) {
      return final_flush(self, std::chrono::steady_clock::time_point(
                                 std::chrono::nanoseconds(deadline_ns)));
    },
  };
}

int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

} // namespace

persistence_pool::persistence_pool(caf::actor_system& sys, const config::node_config& cfg,
                                   store_factory make, user_store_factory make_users)
  : sys_(sys),
    backlog_bytes_(std::make_shared<std::atomic<uint64_t>>(0)),
    backlog_max_(cfg.backlog_max),
    backlog_bytes_max_(cfg.backlog_bytes),
    counters_(std::make_shared<counters>()) {
  user_writer_ = spawn_user_writer(sys, make_users(), cfg.backlog_max,
                                   counters_->access_dropped);
  batch_max_ = cfg.batch_max;
  for (uint32_t i = 0; i < cfg.writers; ++i) {
    std::shared_ptr<storage::message_store> store = make();
    auto inbox = std::make_shared<writer_inbox>();
    inboxes_.push_back(inbox);
    writers_.push_back(sys.spawn<caf::detached>(writer_impl, store, inbox, &backlog_,
                                                backlog_bytes_, counters_, cfg, size_t(i)));
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

size_t persistence_pool::writer_of(const std::string& room) const {
  return std::hash<std::string>{}(room) % inboxes_.size();
}

void persistence_pool::enqueue(store_item&& item) {
  backlog_.fetch_add(1, std::memory_order_relaxed);
  backlog_bytes_->fetch_add(message_footprint(item.m), std::memory_order_relaxed);
  auto index = writer_of(item.m.room);
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

void persistence_pool::reserve(const room_actor& room, const std::string& name, uint64_t mark) {
  auto index = writer_of(name);
  auto& inbox = *inboxes_[index];
  bool signal = false;
  {
    std::lock_guard<std::mutex> guard(inbox.mtx);
    inbox.marks.push_back({name, mark, 0, room});
    signal = !inbox.marks_signaled;
    inbox.marks_signaled = true;
  }
  if (signal)
    caf::anon_send(writers_[index], w_mark_atom::value);
}

void persistence_pool::release(const std::string& name, uint64_t from, uint64_t to,
                               const room_actor& room) {
  auto index = writer_of(name);
  auto& inbox = *inboxes_[index];
  bool signal = false;
  {
    std::lock_guard<std::mutex> guard(inbox.mtx);
    inbox.marks.push_back({name, to, from, room});
    signal = !inbox.marks_signaled;
    inbox.marks_signaled = true;
  }
  if (signal)
    caf::anon_send(writers_[index], w_mark_atom::value);
}

void persistence_pool::count_persisted_ack() {
  counters_->acks_persisted.fetch_add(1, std::memory_order_relaxed);
}

shutdown_leftovers persistence_pool::flush_and_stop(std::chrono::steady_clock::time_point deadline) {
  shutdown_leftovers out;
  caf::scoped_actor self{sys_};
  // The writers flush in parallel; each answers by the deadline (plus one commit).
  for (auto& w : writers_)
    self->send(w, w_flush_atom::value, steady_ns(deadline));
  self->send(user_writer_, w_flush_atom::value, steady_ns(deadline));
  for (size_t i = 0; i < writers_.size() + 1; ++i)
    self->receive(
      [&](std::vector<chat_message>& left) {
        std::move(left.begin(), left.end(), std::back_inserter(out.messages));
      },
      [&](bool users_done) { out.users_flushed = users_done; },
      caf::after(deadline - std::chrono::steady_clock::now() + std::chrono::seconds(30)) >>
        [&] { CHAT_LOG_LIMITED(spdlog::level::err, "a writer did not answer at shutdown"); });
  for (auto& w : writers_)
    self->send_exit(w, caf::exit_reason::user_shutdown);
  self->send_exit(user_writer_, caf::exit_reason::user_shutdown);
  writers_.clear();
  return out;
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
          backlog_.load(), backlog_bytes_->load()};
}

bool persistence_pool::healthy() const {
  for (const auto& inbox : inboxes_)
    if (inbox->failing.load(std::memory_order_relaxed))
      return false;
  return true;
}

} // namespace chat
