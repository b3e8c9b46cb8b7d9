// Room behaviour and lifecycle. A room starts by reading where its numbering continues and
// its dedupe window from the store (a store reader does the read; until it answers,
// joins, leaves and sends wait in order). If that read fails the room answers its joins
// `unavailable`, tells their connections, and leaves the directory, so a later join
// starts a fresh one that tries again. A room with no members and nothing uncommitted
// stops after chat.room-idle (or at once when chat.max-rooms needs its place), giving
// back the seqs it reserved and did not use.
#include "actors/room_actor.hpp"

#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/redis_sequencer.hpp"
#include "actors/room_state.hpp"
#include "actors/store_readers.hpp"
#include "config/log.hpp"

#include <caf/all.hpp>

namespace chat {

namespace {

using room_pointer = room_actor::stateful_pointer<room_state>;

// Bookkeeping for a client-driven message: the counters the admin endpoint reads without
// asking this actor, and the directory's list of rooms with traffic.
void note(room_pointer self) {
  auto& st = self->state;
  ++st.handled;
  auto& live = *st.live;
  bump(live.handled);
  if (!live.listed.load(std::memory_order_relaxed)
      && !live.listed.exchange(true, std::memory_order_relaxed))
    st.ctx->rooms.mark_active(st.live);
  if ((st.handled & 63) == 0 || live.mailbox.load(std::memory_order_relaxed) != 0)
    live.mailbox.store(self->mailbox().size(), std::memory_order_relaxed);
}

std::string unavailable_text(const room_state& st) {
  return "room '" + st.name + "' is unavailable: its stored state cannot be read; retry later";
}

void admit(room_pointer self, join_request& req) {
  auto& st = self->state;
  if (st.phase == room_phase::failed) {
    // The connection hears it first: it forgets the room before its client can react.
    caf::anon_send(req.conn, c_gone_atom::value, st.name, self->address());
    st.error(req.member, error_code::unavailable, unavailable_text(st), req.rid);
    st.leave_failed_room();
    return;
  }
  if (st.cluster && !st.cluster->watching()) {
    // Its first member: subscribe, and catch up with Redis before anyone joins.
    st.phase = room_phase::loading;
    st.deferred.emplace_back([self, req]() mutable { admit(self, req); });
    st.cluster->watch(true, [self] {
      self->state.phase = room_phase::live;
      self->state.run_deferred();
    });
    return;
  }
  st.join(req);
}

void on_join(room_pointer self, join_request& req) {
  auto& st = self->state;
  st.ctx->rooms.set_evictable(st.name, st.live.get(), false);
  room_directory::join_arrived(*st.live);
  admit(self, req);
}

// A send or history request: served when live, refused when the room failed, kept in
// order while it starts (at most chat.seq-block of them). `from` names the requester.
template <class Request>
void serve(room_pointer self, Request& req, member_ref Request::*from,
           void (room_state::*handle)(Request&)) {
  auto& st = self->state;
  switch (st.phase) {
    case room_phase::live:
      (st.*handle)(req);
      return;
    case room_phase::failed:
      st.error(req.*from, error_code::unavailable, unavailable_text(st), req.rid);
      return;
    case room_phase::loading:
      if (st.deferred.size() >= st.ctx->cfg.seq_block)
        st.error(req.*from, error_code::unavailable,
                 "room '" + st.name + "' is starting; retry later", req.rid);
      else
        st.deferred.emplace_back(
          [self, req, from, handle]() mutable { serve(self, req, from, handle); });
      return;
  }
}

room_actor::behavior_type room_impl(room_pointer self, node_context* ctx, std::string name,
                                    room_live_ptr live) {
  auto& st = self->state;
  st.self = self;
  st.ctx = ctx;
  st.name = std::move(name);
  st.live = std::move(live);
  st.name_hash = std::hash<std::string>{}(st.name);
  if (ctx->redis) {
    auto seq = std::make_unique<redis_sequencer>(*ctx, self, st.name);
    st.cluster = seq.get();
    st.seq = std::move(seq);
  } else {
    st.seq = std::make_unique<local_sequencer>();
  }
  st.dedupe = std::make_unique<dedupe_window>(ctx->cfg.dedupe_window);
  st.ring = std::make_unique<room_ring>(ctx->cfg, ctx->counters.ring_bytes, *st.live);
  ctx->counters.rooms_started.fetch_add(1, std::memory_order_relaxed);
  st.start();
  return {
    [self](r_join_atom, join_request& req) {
      note(self);
      auto& st = self->state;
      if (st.phase == room_phase::loading)
        st.deferred.emplace_back([self, req]() mutable { on_join(self, req); });
      else
        on_join(self, req);
    },
    [self](r_leave_atom, member_ref& mem, bool reply, std::string& rid) {
      note(self);
      auto& st = self->state;
      if (st.phase == room_phase::loading)
        st.deferred.emplace_back([self, mem, reply, rid] {
          auto m = mem;
          self->state.leave(m, reply, rid);
        });
      else
        st.leave(mem, reply, rid);
    },
    [self](r_send_atom, send_request& req) {
      note(self);
      serve(self, req, &send_request::sender, &room_state::send);
    },
    [self](r_hist_atom, history_request& req) {
      note(self);
      serve(self, req, &history_request::member, &room_state::history);
    },
    [self](r_typing_atom, uint64_t conn, std::string& user) {
      note(self);
      auto& st = self->state;
      st.broadcast([&](const wire_encoder& e) { return e.typing(st.name, user); }, conn, &user);
    },
    [self](r_read_atom, uint64_t conn, std::string& user, uint64_t seq) {
      ++self->state.handled;
      auto& st = self->state;
      // Nobody can have read past the newest message: such a mark goes out as the last seq.
      seq = std::min(seq, st.seq->last_seq());
      st.broadcast([&](const wire_encoder& e) { return e.read(st.name, user, seq); }, conn,
                   &user);
    },
    [self](r_pres_atom, std::string& user, bool online) {
      note(self);
      auto& st = self->state;
      // A user still (or again) in the room here: its members know it is online. (Leaves
      // reach a room before the presence event that follows them.)
      if (st.user_refs.count(user))
        return;
      st.broadcast([&](const wire_encoder& e) { return e.presence(user, online); }, 0, &user);
    },
    [self](r_persist_atom, uint64_t seq) {
      self->state.persist(seq);
      self->state.settle();
    },
    [self](r_mark_atom, uint64_t mark) {
      self->state.mark(mark);
      self->state.settle();
    },
    [self](r_freed_atom) { self->state.freed(); },
    [self](r_idle_atom, uint64_t) { self->state.idle_tick(); },
    [self](r_stop_atom) { self->state.stop(); },
    [self](r_drain_atom, uint64_t conn) { self->state.drained(conn); },
    [self](r_redis_atom, redis_event_ptr& ev) {
      // No event: the Redis thread queued events in the sequencer's inbox.
      auto& st = self->state;
      if (!st.cluster)
        return;
      if (st.phase == room_phase::failed) {
        if (!ev)
          st.cluster->drop_inbox();
        return;
      }
      if (ev)
        st.cluster->on_event(*ev);
      else
        st.cluster->take_inbox();
      st.settle();
    },
    [self](r_stats_atom, bool with_members) {
      auto& st = self->state;
      room_stats out;
      out.room = st.name;
      out.members = st.members.size();
      out.last_seq = st.seq->last_seq();
      out.messages = st.live->messages.load(std::memory_order_relaxed);
      out.deliveries = st.live->deliveries.load(std::memory_order_relaxed);
      out.acks_seq = st.live->acks_seq.load(std::memory_order_relaxed);
      out.handled = st.handled;
      out.mailbox = self->mailbox().size();
      if (with_members)
        for (auto& m : st.members)
          out.member_list.push_back({m.ref.user, m.ref.conn});
      return out;
    },
  };
}

} // namespace

void room_state::start() {
  if (!ctx->readers) {
    read_reply nothing;
    started(nothing);
    return;
  }
  auto reader = ctx->readers->acquire();
  if (!reader) {
    start_failed("store busy (storage.read-queue reads are waiting)");
    return;
  }
  self->request(reader, ctx->cfg.read_timeout, rd_start_atom::value, name,
                uint32_t(ctx->cfg.dedupe_window))
    .then(
      [this](read_reply& r) {
        if (r.ok)
          started(r);
        else
          start_failed(r.error);
      },
      [this](caf::error& e) {
        ctx->counters.store_read_failures.fetch_add(1, std::memory_order_relaxed);
        start_failed(caf::to_string(e));
      });
}

void room_state::started(read_reply& r) {
  // Numbering continues above everything stored and everything reserved: seqs reserved
  // and lost in a crash stay unused (a gap), never a second message under one number.
  uint64_t last = std::max(r.start.last_seq, r.start.mark);
  persisted = last;
  reserved = last;
  handed = last;
  for (auto& c : r.start.cids)
    dedupe->insert(c.user, c.cid, c.seq, 0);
  seq->start(
    last, [this](chat_message&& m, uint64_t ticket) { deliver(std::move(m), ticket); },
    [this](uint64_t ticket, chat_message&& m, sequencer::refusal why, uint64_t at,
           const std::string& text) { refused(ticket, std::move(m), why, at, text); });
  if (ctx->persistence)
    seq->limit(reserved);
  live->last_seq.store(last, std::memory_order_relaxed);
  phase = room_phase::live;
  run_deferred();
  if (members.empty())
    arm_idle();
}

void room_state::start_failed(const std::string& why) {
  ctx->counters.room_start_failures.fetch_add(1, std::memory_order_relaxed);
  CHAT_LOG_LIMITED(spdlog::level::warn,
                   "room '{}' cannot start: {}; its joins are answered `unavailable` until a "
                   "later join tries again",
                   name, why);
  phase = room_phase::failed;
  auto waiting = std::move(deferred);
  deferred.clear();
  for (auto& f : waiting)
    f();
  leave_failed_room();
}

// Runs what waited while the room was loading, in order; stops when one of them makes it
// load again (a Redis room catching up for its first member), keeping the rest waiting.
void room_state::run_deferred() {
  auto waiting = std::move(deferred);
  deferred.clear();
  for (size_t i = 0; i < waiting.size(); ++i) {
    if (phase == room_phase::loading) {
      deferred.insert(deferred.end(), std::make_move_iterator(waiting.begin() + long(i)),
                      std::make_move_iterator(waiting.end()));
      return;
    }
    waiting[i]();
  }
}

// Leaves the directory once no join is on its way (each such join comes here again), then
// stops after what is already in the mailbox has been answered.
void room_state::leave_failed_room() {
  if (ctx->rooms.try_remove(name, live.get()))
    self->send(self, r_stop_atom::value);
}

// Nothing on its way: every message committed, no reservation or read outstanding.
bool room_state::quiet() const {
  return pending.empty() && seq->waiting() == 0 && acks_waiting.empty() && catchups.empty()
         && histories.empty() && reads == 0 && reserving == 0
         && (!ctx->persistence || persisted >= handed);
}

// Empty and quiet, its unused reservation given back: it may stop (a new instance of the
// room, started from the store, then continues right after its last seq).
bool room_state::idle() const {
  return members.empty() && quiet() && !releasing
         && (!ctx->persistence || reserved <= seq->last_seq());
}

// Once empty and quiet, a room gives back the seqs it reserved and did not use, before it
// may stop: then its next instance reads a mark equal to its last seq and continues
// without a gap. From the moment it asks, it no longer counts them as reserved (the
// release may be written first), so a send meanwhile reserves anew, after the release.
void room_state::settle() {
  if (!members.empty() || phase != room_phase::live || !quiet() || releasing)
    return;
  if (ctx->persistence && reserved > seq->last_seq()) {
    releasing = true;
    ctx->persistence->release(name, reserved, seq->last_seq(), caf::actor_cast<room_actor>(self));
    reserved = seq->last_seq();
    seq->limit(reserved);
    return;
  }
  ctx->rooms.set_evictable(name, live.get(), true);
}

void room_state::freed() {
  releasing = false;
  settle();
}

void room_state::arm_idle() {
  empty_since = std::chrono::steady_clock::now();
  settle();
  if (idle_armed)
    return;
  idle_armed = true;
  self->delayed_send(self, ctx->cfg.room_idle, r_idle_atom::value, uint64_t(0));
}

void room_state::idle_tick() {
  idle_armed = false;
  if (phase != room_phase::live || !members.empty() || ctx->stopping.load())
    return;
  auto waited = std::chrono::steady_clock::now() - empty_since;
  auto again = [&](std::chrono::steady_clock::duration after) {
    idle_armed = true;
    self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(after),
                       r_idle_atom::value, uint64_t(0));
  };
  if (waited < ctx->cfg.room_idle) {
    again(ctx->cfg.room_idle - waited);
    return;
  }
  if (!idle()) {
    again(ctx->cfg.room_idle);
    return;
  }
  if (ctx->rooms.try_remove(name, live.get()))
    stop();
}

// Out of the directory (or the node stops): give back the unused reservation (at
// shutdown a busy room may still hold one) and quit.
void room_state::stop() {
  if (cluster)
    cluster->watch(false);
  if (ctx->persistence && reserving == 0 && !releasing && reserved > seq->last_seq())
    ctx->persistence->release(name, reserved, seq->last_seq());
  ctx->counters.rooms_stopped.fetch_add(1, std::memory_order_relaxed);
  ring->clear();
  self->quit();
}

room_actor spawn_room(node_context& ctx, const std::string& name, room_live_ptr live) {
  return ctx.sys.spawn(room_impl, &ctx, name, std::move(live));
}

} // namespace chat
