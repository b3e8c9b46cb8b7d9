// The Redis sequencer of a room (see redis_sequencer.hpp).
#include "actors/redis_sequencer.hpp"

#include "actors/node_context.hpp"
#include "actors/redis_bridge.hpp"
#include "actors/store_readers.hpp"
#include "config/log.hpp"
#include "net/redis/settings.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace chat {

namespace {

constexpr uint32_t repair_rows = 500;            // stream entries / stored rows per read
static_assert(repair_rows <= redis::settings::max_fetch_rows,
              "a stream page must fit the Redis reader's byte bound");
constexpr uint64_t repair_bytes = 4ull << 20;    // stored bytes per read
constexpr std::chrono::milliseconds retry_after{200};
// Messages held above a gap at most: past this the gap is given up (its seqs skipped, a
// warning logged) rather than holding the room's traffic in memory while reads fail.
constexpr size_t max_ahead = 20000;
// How long a seeding node waits, beyond storage.lazy-delay, for messages other nodes
// sequenced before Redis lost the counter to reach the store.
constexpr std::chrono::milliseconds seed_margin{500};

using event_kind = redis_event::kind;
// An `active` event's value when it is the counter's retry timer.
constexpr uint64_t counter_retry = 1;

// Queues `ev` for the room (from the Redis thread); dropped when the room is gone.
void post(const std::shared_ptr<redis_inbox>& room, redis_event&& ev) { room->push(std::move(ev)); }

chat_message to_chat(redis::room_message&& m) {
  return chat_message{std::move(m.room), m.seq, std::move(m.user), std::move(m.cid),
                      std::move(m.text), m.ts_ms};
}

} // namespace

redis_sequencer::redis_sequencer(node_context& ctx, room_actor::pointer self, std::string room)
  : ctx_(ctx), self_(self), room_(std::move(room)), keys_(redis::keys_for(room_)),
    inbox_(std::make_shared<redis_inbox>(self->address())) {}

redis_sequencer::~redis_sequencer() { inbox_->close(); }

void redis_sequencer::take_inbox() {
  inbox_->take(taken_);
  for (auto& ev : taken_)
    on_event(ev);
  taken_.clear();
}

void redis_sequencer::drop_inbox() {
  inbox_->take(taken_);
  taken_.clear();
}

// --- the hand-over from the Redis thread ------------------------------------------------

void redis_inbox::push(redis_event&& ev) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (closed_)
      return;
    items_.push_back(std::move(ev));
    if (items_.size() > 1)
      return; // the room was messaged and has not taken the inbox yet
  }
  if (auto h = caf::actor_cast<room_actor>(room_))
    caf::anon_send(h, r_redis_atom::value, redis_event_ptr{});
  else
    close(); // the room is gone: nobody would ever take these
}

void redis_inbox::take(std::vector<redis_event>& out) {
  std::lock_guard<std::mutex> guard(mu_);
  items_.swap(out);
}

void redis_inbox::close() {
  std::vector<redis_event> dropped;
  std::lock_guard<std::mutex> guard(mu_);
  closed_ = true;
  items_.swap(dropped);
}

void redis_sequencer::start(uint64_t last_seq, sink deliver, refuse refused) {
  last_ = highest_ = last_seq;
  deliver_ = std::move(deliver);
  refused_ = std::move(refused);
}

void redis_sequencer::submit(chat_message&& m, uint64_t ticket) {
  inflight_.emplace(ticket, own{std::move(m), false});
  if (seeding_)
    seed_wait_.push_back(ticket);
  else
    send(ticket, false);
}

void redis_sequencer::send(uint64_t ticket, bool seeded) {
  auto i = inflight_.find(ticket);
  if (i == inflight_.end())
    return;
  auto& m = i->second.m;
  i->second.sent = true;
  redis::room_message rm{m.room, 0, m.user, m.cid, m.text, m.ts_ms, ctx_.redis->node()};
  uint64_t floor = std::max({last_, highest_, floor_});
  bool queued = ctx_.redis->log.sequence(
    keys_, rm, floor, seeded, i->second.checked,
    [room = inbox_, ticket](redis::seq_result&& r) {
      redis_event ev;
      ev.what = event_kind::reply;
      ev.ticket = ticket;
      ev.result = std::move(r);
      post(room, std::move(ev));
    });
  if (!queued) {
    redis::seq_result r;
    r.fail = redis::failure::rejected;
    r.error = "the Redis queue is full (redis.queue-commands / redis.queue-bytes)";
    replied(ticket, r);
  }
}

void redis_sequencer::on_event(redis_event& ev) {
  switch (ev.what) {
    case event_kind::reply:
      replied(ev.ticket, ev.result);
      return;
    case event_kind::published: {
      // This node's own messages come back too: their copy is what stores one whose
      // reply was lost, before Redis may lose the counter (seeding reads the store).
      auto origin = std::move(ev.msg.origin);
      add(to_chat(std::move(ev.msg)), remote, origin == ctx_.redis->node());
      drain();
      return;
    }
    case event_kind::active:
      if (ev.value == counter_retry)
        counter_retry_armed_ = false;
      read_counter();
      return;
    case event_kind::counter:
      if (!ev.ok) {
        retry_counter();
        return;
      }
      highest_ = std::max(highest_, ev.value);
      if (synced_)
        sync_upto_ = ev.value + 1;
      drain();
      return;
    case event_kind::fetched:
      fetched(ev);
      return;
    case event_kind::stored:
      stored(ev);
      return;
    case event_kind::seed:
      seed();
      return;
    case event_kind::retry:
      retry_armed_ = false;
      drain();
      return;
    case event_kind::sync_late:
      if (synced_ && ev.value == sync_gen_) {
        CHAT_LOG_LIMITED(spdlog::level::warn,
                         "room '{}': Redis did not answer within redis.unavailable-timeout; "
                         "joins go ahead, missed messages follow when it is back",
                         room_);
        sync_done();
      }
      return;
  }
}

// The room's counter: every seq up to it exists, and is delivered (or repaired) in order.
void redis_sequencer::read_counter() {
  bool queued =
    ctx_.redis->log.last_seq(room_, [room = inbox_](bool ok, uint64_t seq) {
      redis_event ev;
      ev.what = event_kind::counter;
      ev.ok = ok;
      ev.value = seq;
      post(room, std::move(ev));
    });
  if (!queued)
    retry_counter();
}

// One retry timer at a time: however many reads failed (one per lost reply while Redis is
// down), the room keeps one read going until Redis answers.
void redis_sequencer::retry_counter() {
  if (counter_retry_armed_)
    return;
  counter_retry_armed_ = true;
  post_later(event_kind::active, retry_after, counter_retry);
}

// --- own messages ----------------------------------------------------------------------

void redis_sequencer::replied(uint64_t ticket, redis::seq_result& r) {
  auto i = inflight_.find(ticket);
  if (i == inflight_.end())
    return;
  switch (r.status) {
    case redis::seq_status::sequenced: {
      auto m = std::move(i->second.m);
      inflight_.erase(i);
      m.seq = r.seq;
      highest_ = std::max(highest_, r.seq);
      if (r.seq <= last_) {
        // Its copy from the channel went out first, as an orphan (stored, unacked): the
        // sender gets its seq as for a repeat.
        refused_(ticket, std::move(m), refusal::duplicate, r.seq, {});
      } else {
        add(std::move(m), ticket, true);
      }
      break;
    }
    case redis::seq_status::duplicate:
    case redis::seq_status::conflict: {
      auto m = std::move(i->second.m);
      inflight_.erase(i);
      refused_(ticket, std::move(m),
               r.status == redis::seq_status::duplicate ? refusal::duplicate : refusal::conflict,
               r.seq, {});
      break;
    }
    case redis::seq_status::needs_seed:
      i->second.sent = false;
      i->second.checked = false; // what the store holds may change during the seeding wait
      seed_wait_.push_back(ticket);
      if (!seeding_) {
        seeding_ = true;
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.cfg.lazy_delay)
                    + seed_margin;
        post_later(event_kind::seed, ctx_.persistence ? wait : std::chrono::milliseconds(0));
      }
      break;
    case redis::seq_status::needs_check:
      i->second.sent = false;
      check_store(ticket);
      break;
    case redis::seq_status::failed: {
      ctx_.counters.redis_send_failures.fetch_add(1, std::memory_order_relaxed);
      auto m = std::move(i->second.m);
      inflight_.erase(i);
      // Written, then no reply: the script may have run. Its copy from the channel
      // delivers it (as an orphan); in case that copy was lost too, learn from the counter
      // whether a seq was handed out, and repair it from the stream; once more a command
      // timeout later, in case Redis ran it only after the reset.
      if (r.fail == redis::failure::lost || r.fail == redis::failure::timeout) {
        read_counter();
        post_later(event_kind::active, ctx_.cfg.redis_command_timeout);
      }
      refused_(ticket, std::move(m), refusal::unavailable, 0,
               "Redis did not sequence the message (" + r.error + "); retry with the same cid");
      break;
    }
  }
  drain();
}

// Redis lost the room's counter: after other nodes' unstored messages had time to reach
// the store, number above everything the store and this room know.
void redis_sequencer::seed() {
  auto resend = [this](uint64_t stored_max) {
    seeding_ = false;
    floor_ = std::max({floor_, stored_max, last_, highest_});
    auto tickets = std::move(seed_wait_);
    seed_wait_.clear();
    // In submission order (tickets grow): sends submitted while seeding joined the list
    // before the needs_seed replies of earlier ones.
    std::sort(tickets.begin(), tickets.end());
    for (auto t : tickets)
      send(t, true);
  };
  auto reader = ctx_.readers ? ctx_.readers->acquire() : caf::actor{};
  if (!ctx_.readers) {
    resend(0);
    return;
  }
  if (!reader) {
    post_later(event_kind::seed, retry_after);
    return;
  }
  self_->request(reader, ctx_.cfg.read_timeout, rd_start_atom::value, room_, uint32_t(0))
    .then(
      [this, resend](read_reply& r) {
        if (!r.ok) {
          post_later(event_kind::seed, retry_after);
          return;
        }
        resend(std::max(r.start.last_seq, r.start.mark));
      },
      [this](caf::error&) { post_later(event_kind::seed, retry_after); });
}

// Redis lost its dedupe entries lately: the store tells whether this (user, cid) names a
// message numbered before the loss.
void redis_sequencer::check_store(uint64_t ticket) {
  ctx_.counters.redis_cid_checks.fetch_add(1, std::memory_order_relaxed);
  to_check_.push_back(ticket);
  if (!checking_)
    check_next();
}

void redis_sequencer::check_next() {
  checking_ = false;
  while (!to_check_.empty() && !checking_) {
    auto ticket = to_check_.front();
    to_check_.pop_front();
    auto i = inflight_.find(ticket);
    if (i == inflight_.end())
      continue;
    if (!ctx_.readers) { // no store: nothing numbered before the loss can be found
      i->second.checked = true;
      send(ticket, false);
      continue;
    }
    auto reader = ctx_.readers->acquire();
    if (!reader) {
      read_reply busy{false, "store busy", {}, {}};
      checked(ticket, busy);
      continue;
    }
    checking_ = true;
    auto& m = i->second.m;
    self_->request(reader, ctx_.cfg.read_timeout, rd_cid_atom::value, room_, m.user, m.cid)
      .then(
        [this, ticket](read_reply& r) {
          checked(ticket, r);
          check_next();
        },
        [this, ticket](caf::error& e) {
          ctx_.counters.store_read_failures.fetch_add(1, std::memory_order_relaxed);
          read_reply failed{false, caf::to_string(e), {}, {}};
          checked(ticket, failed);
          check_next();
        });
  }
}

void redis_sequencer::checked(uint64_t ticket, read_reply& r) {
  auto i = inflight_.find(ticket);
  if (i == inflight_.end())
    return;
  if (!r.ok) {
    auto m = std::move(i->second.m);
    inflight_.erase(i);
    refused_(ticket, std::move(m), refusal::unavailable, 0,
             "the store could not tell whether this cid was used (" + r.error
               + "); retry with the same cid");
    drain();
    return;
  }
  if (r.messages.empty()) {
    i->second.checked = true;
    send(ticket, false);
    return;
  }
  // A retry of a message numbered before the loss: answered as a repeat (a duplicate is
  // stored again under its seq, which the store ignores, and acked with it).
  auto& original = r.messages.front();
  auto why = original.text == i->second.m.text ? refusal::duplicate : refusal::conflict;
  auto m = std::move(i->second.m);
  inflight_.erase(i);
  refused_(ticket, std::move(m), why, original.seq, {});
  drain();
}

// --- ordering --------------------------------------------------------------------------

void redis_sequencer::add(chat_message&& m, uint64_t ticket, bool ours) {
  if (m.seq <= last_)
    return;
  highest_ = std::max(highest_, m.seq);
  auto [at, fresh] = ahead_.try_emplace(m.seq);
  if (fresh) {
    at->second = held{std::move(m), ticket, ours};
  } else if (ticket != remote) {
    at->second.ticket = ticket; // the reply to a message that came on the channel first
    at->second.ours = true;
  }
}

// A message this node sequenced, whose sender still waits for the script's reply.
bool redis_sequencer::claimed(const chat_message& m) const {
  for (auto& [ticket, o] : inflight_)
    if (o.sent && o.m.cid == m.cid && o.m.user == m.user)
      return true;
  return false;
}

// The last seq of a known-lost range holding `seq`, or 0.
uint64_t redis_sequencer::skippable(uint64_t seq) {
  lost_.erase(std::remove_if(lost_.begin(), lost_.end(),
                             [&](const std::pair<uint64_t, uint64_t>& r) { return r.second < seq; }),
              lost_.end());
  for (auto& r : lost_)
    if (r.first <= seq && seq <= r.second)
      return r.second;
  return 0;
}

void redis_sequencer::drain() {
  for (;;) {
    auto next = last_ + 1;
    auto it = ahead_.begin();
    if (it != ahead_.end() && it->first == next) {
      auto& h = it->second;
      if (h.ticket == remote && h.ours && claimed(h.m))
        return; // its reply is on the way
      uint64_t ticket = h.ticket != remote ? h.ticket : h.ours ? orphan : remote;
      auto m = std::move(h.m);
      ahead_.erase(it);
      last_ = next;
      deliver_(std::move(m), ticket);
      continue;
    }
    if (next > highest_) {
      if (synced_ && sync_upto_ != 0 && last_ + 1 >= sync_upto_)
        sync_done();
      return;
    }
    uint64_t upto = it == ahead_.end() ? highest_ : it->first - 1;
    if (auto lost_upto = skippable(next)) {
      // A whole range at once: a seeding jump can leave millions of seqs unused.
      uint64_t to = std::min(lost_upto, upto);
      ctx_.counters.redis_seq_skipped.fetch_add(to - last_, std::memory_order_relaxed);
      last_ = to;
      continue;
    }
    if (ahead_.size() > max_ahead) {
      CHAT_LOG_LIMITED(spdlog::level::warn,
                       "room '{}': seqs {}..{} could not be repaired while {} later messages "
                       "waited; skipped",
                       room_, next, upto, ahead_.size());
      ctx_.counters.redis_seq_skipped.fetch_add(upto - last_, std::memory_order_relaxed);
      last_ = upto;
      continue;
    }
    repair(last_, upto);
    return;
  }
}

// --- gap repair ------------------------------------------------------------------------

void redis_sequencer::repair(uint64_t after, uint64_t upto) {
  if (parts_ > 0 || retry_armed_)
    return;
  ctx_.counters.redis_repairs.fetch_add(1, std::memory_order_relaxed);
  ++parts_;
  bool queued = ctx_.redis->log.fetch(
    room_, after, upto, repair_rows,
    [room = inbox_, after, upto](redis::range_result&& r) {
      redis_event ev;
      ev.what = event_kind::fetched;
      ev.after = after;
      ev.upto = upto;
      ev.range = std::move(r);
      post(room, std::move(ev));
    });
  if (!queued) {
    --parts_;
    post_later(event_kind::retry, retry_after);
  }
}

void redis_sequencer::fetched(redis_event& ev) {
  auto& r = ev.range;
  if (!r.ok) {
    CHAT_LOG_LIMITED(spdlog::level::warn, "room '{}': stream read for gap repair failed: {}",
                     room_, r.error);
    part_done();
    post_later(event_kind::retry, retry_after);
    return;
  }
  for (auto& m : r.messages) {
    auto origin = std::move(m.origin);
    add(to_chat(std::move(m)), remote, origin == ctx_.redis->node());
  }
  for (auto& [first, last] : r.missing) {
    auto reader = ctx_.readers ? ctx_.readers->acquire() : caf::actor{};
    if (!ctx_.readers) {
      lost_.emplace_back(first, last);
      continue;
    }
    if (!reader) {
      post_later(event_kind::retry, retry_after);
      continue;
    }
    ++parts_;
    self_
      ->request(reader, ctx_.cfg.read_timeout, rd_since_atom::value, room_, first - 1, last,
                repair_rows, repair_bytes)
      .then(
        [this, first = first, last = last](read_reply& rr) {
          redis_event e;
          e.what = event_kind::stored;
          e.after = first - 1;
          e.upto = last;
          e.ok = rr.ok;
          e.stored = std::move(rr.messages);
          stored(e);
        },
        [this](caf::error&) {
          ctx_.counters.store_read_failures.fetch_add(1, std::memory_order_relaxed);
          part_done();
          post_later(event_kind::retry, retry_after);
        });
  }
  part_done();
}

void redis_sequencer::stored(redis_event& ev) {
  if (!ev.ok) {
    part_done();
    post_later(event_kind::retry, retry_after);
    return;
  }
  // Seqs the page passes over were never stored (a seeding jump, or lost): skipped. A full
  // page may stop early; what lies past it is read by the next repair.
  uint64_t expected = ev.after + 1;
  size_t rows = ev.stored.size();
  for (auto& m : ev.stored) {
    if (m.seq > expected)
      lost_.emplace_back(expected, m.seq - 1);
    expected = std::max(expected, m.seq + 1);
    add(std::move(m), remote, false);
  }
  if (rows < repair_rows && expected <= ev.upto)
    lost_.emplace_back(expected, ev.upto);
  part_done();
}

void redis_sequencer::part_done() {
  if (parts_ > 0 && --parts_ == 0)
    drain();
}

void redis_sequencer::sync_done() {
  auto done = std::move(synced_);
  synced_ = nullptr;
  done();
}

void redis_sequencer::post_later(redis_event::kind k, std::chrono::milliseconds after,
                                 uint64_t value) {
  if (k == event_kind::retry) {
    if (retry_armed_)
      return;
    retry_armed_ = true;
  }
  auto ev = std::make_shared<redis_event>();
  ev->what = k;
  ev->value = value;
  self_->delayed_send(self_, after, r_redis_atom::value, std::move(ev));
}

// --- the room's channel ----------------------------------------------------------------

void redis_sequencer::watch(bool on, std::function<void()> synced) {
  if (on == watching_)
    return;
  watching_ = on;
  auto channel = keys_.channel;
  synced_ = std::move(synced);
  sync_upto_ = 0;
  if (!on) {
    ctx_.redis->client.unsubscribe(std::move(channel));
    return;
  }
  redis::channel_handlers h;
  auto room = inbox_;
  size_t max_bytes = ctx_.redis->client.config().max_message_bytes;
  h.on_message = [room, max_bytes, name = room_,
                  counters = &ctx_.counters](std::string_view payload) {
    redis_event ev;
    ev.what = event_kind::published;
    auto why = redis::decode_published(payload, max_bytes, ev.msg);
    if (why.empty() && ev.msg.room != name)
      why = "it names room '" + ev.msg.room + "'";
    if (!why.empty()) {
      counters->redis_bad_messages.fetch_add(1, std::memory_order_relaxed);
      CHAT_LOG_LIMITED(spdlog::level::warn, "room '{}': dropped a message from Redis: {}", name,
                       why);
      return;
    }
    post(room, std::move(ev));
  };
  h.on_active = [room](bool) {
    redis_event ev;
    ev.what = event_kind::active;
    post(room, std::move(ev));
  };
  ctx_.redis->client.subscribe(std::move(channel), std::move(h));
  if (synced_)
    post_later(event_kind::sync_late, ctx_.cfg.redis_unavailable_timeout, ++sync_gen_);
}

} // namespace chat
